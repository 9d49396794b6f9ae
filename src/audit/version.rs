//! Dotted version numbers (Entra Connect builds such as `2.3.20.0`), compared numerically.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub struct Version(pub Vec<u64>);

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Version {}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let parts: Option<Vec<u64>> = s
            .trim()
            .trim_start_matches(['v', 'V'])
            .split('.')
            .map(|p| p.trim().parse().ok())
            .collect();
        let parts = parts?;
        if parts.is_empty() || parts.len() > 4 {
            None
        } else {
            Some(Version(parts))
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        for i in 0..self.0.len().max(other.0.len()) {
            let a = self.0.get(i).copied().unwrap_or(0);
            let b = other.0.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s: Vec<String> = self.0.iter().map(|p| p.to_string()).collect();
        f.write_str(&s.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_numerically() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("2.0.89.0") > v("2.0.88.0"));
        assert!(v("2.3.20.0") > v("2.3.2.0"));
        assert!(v("2.10.0.0") > v("2.9.9.9"));
        assert_eq!(v("2.3.2"), v("2.3.2.0"));
        assert!(Version::parse("abc").is_none());
        assert!(Version::parse("1.2.3.4.5").is_none());
    }
}
