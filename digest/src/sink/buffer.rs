//! The bounded, byte-counted queue between the payment path and a sink's worker
//! thread: callers append under a short lock (a memcpy), the worker takes all of it
//! at once. `flush` waits until everything queued before it has been handled.

use super::{Counters, SinkError};
use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    /// Pending lines per key (a service name, or "" for sinks that do not split).
    lines: HashMap<String, (Vec<u8>, u64)>,
    events: Vec<u8>,
    event_count: u64,
    bytes: usize,
    /// Items (lines + events) accepted so far, and handled so far.
    accepted: u64,
    handled: u64,
    wake: bool,
    closed: bool,
}

/// What the worker takes in one go.
#[derive(Default)]
pub(crate) struct Batch {
    pub lines: Vec<(String, Vec<u8>, u64)>,
    pub events: Vec<u8>,
    pub event_count: u64,
    /// `accepted` at the time of taking: handled once this batch is done.
    pub upto: u64,
}

pub(crate) struct Queue {
    state: Mutex<State>,
    cv: Condvar,
    done: Condvar,
    cap_bytes: usize,
    pub counters: Counters,
}

impl Queue {
    pub fn new(cap_bytes: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            done: Condvar::new(),
            cap_bytes,
            counters: Counters::default(),
        }
    }

    /// Appends a line under `key`; counts a drop if the queue is full or closed.
    pub fn push_line(&self, key: &str, line: &[u8]) {
        let mut st = self.state.lock();
        if st.closed || st.bytes + line.len() > self.cap_bytes {
            drop(st);
            Counters::add(&self.counters.dropped, 1);
            return;
        }
        st.bytes += line.len();
        st.accepted += 1;
        match st.lines.get_mut(key) {
            Some((buf, n)) => {
                buf.extend_from_slice(line);
                *n += 1;
            }
            None => {
                let mut buf = Vec::with_capacity(64 * 1024);
                buf.extend_from_slice(line);
                st.lines.insert(key.to_string(), (buf, 1));
            }
        }
        let wake = st.bytes > self.cap_bytes / 4;
        drop(st);
        Counters::add(&self.counters.lines, 1);
        if wake {
            self.cv.notify_one();
        }
    }

    /// Appends an encoded change event.
    pub fn push_event(&self, line: &[u8]) {
        let mut st = self.state.lock();
        if st.closed || st.bytes + line.len() > self.cap_bytes {
            drop(st);
            Counters::add(&self.counters.dropped, 1);
            return;
        }
        st.bytes += line.len();
        st.accepted += 1;
        st.events.extend_from_slice(line);
        st.event_count += 1;
        drop(st);
        Counters::add(&self.counters.events, 1);
    }

    /// Worker side: waits up to `interval` (or until woken), then takes everything.
    /// Returns `None` once closed and drained.
    pub fn take(&self, interval: Duration) -> Option<Batch> {
        let mut st = self.state.lock();
        if !st.wake && !st.closed && st.bytes <= self.cap_bytes / 4 {
            self.cv.wait_for(&mut st, interval);
        }
        st.wake = false;
        if st.closed && st.accepted == st.handled && st.bytes == 0 {
            return None;
        }
        let mut b = Batch {
            upto: st.accepted,
            ..Batch::default()
        };
        for (k, (buf, n)) in st.lines.iter_mut() {
            if *n > 0 {
                b.lines.push((
                    k.clone(),
                    std::mem::replace(buf, Vec::with_capacity(64 * 1024)),
                    *n,
                ));
                *n = 0;
            }
        }
        b.events = std::mem::take(&mut st.events);
        b.event_count = std::mem::take(&mut st.event_count);
        st.bytes = 0;
        Some(b)
    }

    /// Worker side: everything up to `upto` has been handled.
    pub fn handled(&self, upto: u64) {
        let mut st = self.state.lock();
        if upto > st.handled {
            st.handled = upto;
        }
        drop(st);
        self.done.notify_all();
    }

    /// Caller side: wake the worker and wait until all accepted so far is handled.
    pub fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.state.lock();
        let target = st.accepted;
        st.wake = true;
        self.cv.notify_one();
        while st.handled < target {
            if self.done.wait_until(&mut st, deadline).timed_out() {
                return st.handled >= target;
            }
        }
        true
    }

    /// Refuse new items and let the worker drain and stop.
    pub fn close(&self) {
        self.state.lock().closed = true;
        self.cv.notify_one();
    }
}

/// A queue and the one thread that drains it. Closing (or dropping) closes the
/// queue, lets the thread write out what is left, and joins it.
pub(crate) struct Drained {
    pub queue: Arc<Queue>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Drained {
    /// Starts thread `name` running `drain(queue)`.
    pub fn spawn(
        queue: Arc<Queue>,
        name: &'static str,
        drain: impl FnOnce(Arc<Queue>) + Send + 'static,
    ) -> Result<Self, SinkError> {
        let q = queue.clone();
        let worker = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || drain(q))
            .map_err(|source| SinkError::Dir {
                dir: format!("({name} thread)"),
                source,
            })?;
        Ok(Self {
            queue,
            worker: Mutex::new(Some(worker)),
        })
    }

    pub fn close(&self) {
        self.queue.close();
        if let Some(h) = self.worker.lock().take() {
            let _ = h.join();
        }
    }
}

impl Drop for Drained {
    fn drop(&mut self) {
        self.close();
    }
}
