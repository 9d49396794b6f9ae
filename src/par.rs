//! Two pieces of work side by side on scoped threads, with the in-place fallback every caller
//! needs: when a second thread cannot be started (a constrained container, a thread limit) or
//! the work on it panicked, that work is done again on the calling thread. Used by the group
//! index and the snapshot reader; the results never depend on whether a thread ran.

/// Run `a` on this thread and `b` on a second one, and return both results. `b` is run here
/// after `a` when the second thread cannot start or does not finish.
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA,
    B: Fn() -> RB + Sync,
    RB: Send,
{
    let (ra, rb) = std::thread::scope(|s| {
        let handle = std::thread::Builder::new().spawn_scoped(s, &b);
        let ra = a();
        (ra, handle.ok().and_then(|h| h.join().ok()))
    });
    (ra, rb.unwrap_or_else(b))
}

/// [`join`] when `parallel`, else both on this thread (`a` first): for work too small to be
/// worth a thread.
pub fn join_if<A, B, RA, RB>(parallel: bool, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA,
    B: Fn() -> RB + Sync,
    RB: Send,
{
    if parallel { join(a, b) } else { (a(), b()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_results_come_back_in_order() {
        let data: Vec<u64> = (0..10_000).collect();
        let (a, b) = join(
            || data[..5000].iter().sum::<u64>(),
            || data[5000..].iter().sum::<u64>(),
        );
        assert_eq!(a + b, data.iter().sum::<u64>());
        assert_eq!(a, (0..5000).sum::<u64>());
        let (a, b) = join_if(false, || 1, || 2);
        assert_eq!((a, b), (1, 2));
    }

    #[test]
    fn work_whose_thread_panicked_is_done_again_here() {
        let first = std::sync::atomic::AtomicBool::new(true);
        let (a, b) = join(
            || "here",
            || {
                if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    panic!("the second thread fails once");
                }
                "again"
            },
        );
        assert_eq!((a, b), ("here", "again"));
    }
}
