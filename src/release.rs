//! Freeing a big file's values (its syntax tree, model, diagnostics) away from the work.

use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::OnceLock;

/// A file of at least this many instructions, or a list of at least this many diagnostics,
/// is freed by [`release`]; anything smaller is freed at once.
pub const BIG: usize = 2048;

/// Values waiting to be freed; past these, the caller frees its own.
const WAITING: usize = 2;

type Value = Box<dyn Send>;

/// Frees `value` on a thread of the lowest priority. Freeing millions of small values is a
/// few percent of the time of a 50 MB file; on another worker it took a core from writing
/// the diagnostics. At the lowest priority a core that would sit idle frees it, and a
/// one-shot command that exits first never pays for it. At most [`WAITING`] values wait, so
/// memory stays bounded however many big files a run lints.
pub fn release<T: Send + 'static>(value: T) {
    static FREER: OnceLock<Option<SyncSender<Value>>> = OnceLock::new();
    let freer = FREER.get_or_init(|| {
        let (send, receive) = mpsc::sync_channel::<Value>(WAITING);
        std::thread::Builder::new()
            .name("docklint-free".into())
            .spawn(move || {
                lowest_priority();
                receive.into_iter().for_each(drop);
            })
            .ok()?;
        Some(send)
    });
    if let Some(freer) = freer {
        match freer.try_send(Box::new(value)) {
            Ok(()) => {}
            Err(TrySendError::Full(value) | TrySendError::Disconnected(value)) => drop(value),
        }
    }
}

/// The calling thread's nice value to 19 (on Linux, `setpriority` of the process 0 sets the
/// calling thread's).
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    // Only a hint: a thread that keeps its priority frees as a rayon worker did.
    let _ = rustix::process::setpriority_process(None, 19);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Every value released is freed, in the background or by the caller when too many
    /// wait.
    #[test]
    fn released_values_are_all_freed() {
        let freed = Arc::new(AtomicUsize::new(0));
        for _ in 0..100 {
            release(Counted(Arc::clone(&freed)));
        }
        let start = Instant::now();
        while freed.load(Ordering::SeqCst) < 100 && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(freed.load(Ordering::SeqCst), 100);
    }
}
