//! Large values freed off the critical path: a plan or snapshot of a million memberships is
//! millions of small allocations, and freeing them one by one takes a core for a while.

/// Drop `value` on a thread of its own, so the caller goes on at once (if the thread cannot
/// start, the value is dropped here).
pub fn drop_later<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("gwb-free".into())
        .spawn(move || drop(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_is_dropped_on_another_thread() {
        struct Flag(std::sync::mpsc::Sender<std::thread::ThreadId>);
        impl Drop for Flag {
            fn drop(&mut self) {
                let _ = self.0.send(std::thread::current().id());
            }
        }
        let (tx, rx) = std::sync::mpsc::channel();
        drop_later(Flag(tx));
        let on = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("dropped");
        assert_ne!(on, std::thread::current().id());
    }
}
