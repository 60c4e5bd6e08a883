//! The dashboard receiver: an in-memory, bounded feed of notifications plus a live
//! subscription (a `tokio::sync::broadcast` channel) for the war-room screen.

use crate::group::Notification;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::broadcast;

/// One entry of the feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedEntry {
    pub seq: u64,
    pub notification: Notification,
}

/// A bounded feed; clones share it.
#[derive(Debug, Clone)]
pub struct DashboardFeed {
    inner: Arc<Mutex<(VecDeque<FeedEntry>, u64)>>,
    cap: usize,
    tx: broadcast::Sender<FeedEntry>,
}

impl DashboardFeed {
    pub fn new(cap: usize) -> Self {
        let (tx, _) = broadcast::channel(cap.max(1));
        Self {
            inner: Arc::new(Mutex::new((VecDeque::new(), 0))),
            cap: cap.max(1),
            tx,
        }
    }

    pub fn push(&self, notification: Notification) {
        let mut g = self.inner.lock();
        g.1 += 1;
        let entry = FeedEntry {
            seq: g.1,
            notification,
        };
        if g.0.len() == self.cap {
            g.0.pop_front();
        }
        g.0.push_back(entry.clone());
        drop(g);
        let _ = self.tx.send(entry); // no subscriber is fine: the list keeps it
    }

    /// The newest entries, oldest first.
    pub fn recent(&self) -> Vec<FeedEntry> {
        self.inner.lock().0.iter().cloned().collect()
    }

    /// Entries pushed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<FeedEntry> {
        self.tx.subscribe()
    }
}
