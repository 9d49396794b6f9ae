//! The terminal rules every renderer shares: how wide a table may be (the terminal's own
//! width, else `COLUMNS`, else 120; never narrower than 40).

use std::io::IsTerminal;

/// The width tables lay out at on stdout: the terminal's own, else COLUMNS, else 120.
pub fn width(is_terminal: bool) -> u16 {
    if is_terminal && let Some((_, cols)) = console::Term::stdout().size_checked() {
        return cols.max(40);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&c| c >= 40)
        .unwrap_or(120)
}

/// [`width`] for stdout as it is now.
pub fn stdout_width() -> u16 {
    width(std::io::stdout().is_terminal())
}
