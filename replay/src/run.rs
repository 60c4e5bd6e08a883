//! The replay loop: files → (per-file readers) → a merge on the lowest time read →
//! [`Order`] → the analyzer and the incident book under a manual clock. Each released
//! bucket of one tick is fed as a live step is: the clock set to the tick's end, the
//! bucket's records (`ingest_record`) and events ingested, its records' rollup merged
//! (`ingest_rollup`: together what `ingest_raw` does, the rollup built on the reader's
//! thread), then `Analyzer::tick` and `IncidentBook::update` at that moment (what
//! `command::CommandLoop::step` does with healing off). Empty ticks between buckets are stepped too, so incidents close on the
//! same seconds of health as live; a gap longer than `MAX_IDLE` is jumped over.

use crate::error::ReplayError;
use crate::format::{Format, Item, What};
use crate::input::{spawn, Msg, ReadOptions};
use crate::order::{Bucket, Order};
use crate::report::{BadInput, IncidentReport, PlanChoice, Summary};
use analyzer::{Analyzer, AnalyzerConfig};
use command::{BookConfig, IncidentBook, Observation};
use digest::{Clock, ManualClock};
use healer::Plan;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Instant;

/// Longest run of empty ticks stepped between two buckets (10 minutes of 100 ms ticks);
/// beyond it the clock jumps to the next bucket.
const MAX_IDLE_TICKS: u64 = 6_000;

/// How to replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub format: Format,
    /// The analyzer's settings (a room config's `[analyzer]`; default: the live default).
    pub analyzer: AnalyzerConfig,
    /// Incident lifetimes (`[incidents]`).
    pub incidents: BookConfig,
    /// Plans to match each incident against (dry run); `None`: no `plan` in the reports.
    pub plans: Option<Vec<Plan>>,
    /// Record time between two analyzer ticks, microseconds (a drill steps 100 ms).
    pub tick_us: u64,
    /// How far out of order records may come and still be put in order, microseconds.
    pub reorder_us: u64,
    /// SOFATracer timestamps' zone.
    pub sofa: collector::SofaOptions,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            format: Format::Auto,
            analyzer: AnalyzerConfig::default(),
            incidents: BookConfig::default(),
            plans: None,
            tick_us: 100_000,
            reorder_us: 5_000_000,
            sofa: collector::SofaOptions::default(),
        }
    }
}

/// Replays `files` (merged in time order) and returns the summary; `on_incident` gets
/// every incident at the end (by id), `on_bad` every refused line as it is read. An input
/// that cannot be opened fails the whole replay before anything is read.
pub fn replay(
    files: &[PathBuf],
    o: &ReplayOptions,
    on_incident: &mut dyn FnMut(&IncidentReport),
    on_bad: &mut dyn FnMut(&BadInput),
) -> Result<Summary, ReplayError> {
    if files.is_empty() {
        return Err(ReplayError::NoFiles);
    }
    if o.tick_us == 0 {
        return Err(ReplayError::Options(
            "the tick must be longer than 0".into(),
        ));
    }
    o.analyzer.validate()?;
    let opened: Vec<(String, std::fs::File)> = files
        .iter()
        .map(|p| {
            std::fs::File::open(p)
                .map(|f| (p.display().to_string(), f))
                .map_err(|source| ReplayError::Open {
                    path: p.clone(),
                    source,
                })
        })
        .collect::<Result<_, _>>()?;
    let wall = Instant::now();
    let (spent_tx, spent_rx) = std::sync::mpsc::channel();
    let spent = Arc::new(std::sync::Mutex::new(spent_rx));
    let mut inputs: Vec<Input> = opened
        .into_iter()
        .map(|(name, f)| Input {
            rx: spawn(
                name,
                f,
                ReadOptions {
                    format: o.format,
                    sofa: o.sofa,
                    tick_us: o.tick_us,
                    spent: spent.clone(),
                },
            ),
            read_to_us: 0,
            done: false,
        })
        .collect();
    // Only the readers hold the spent items' receiver: once they are done, sends fail and
    // the items are dropped here.
    drop(spent);
    let mut order = Order::new(o.tick_us, o.reorder_us);
    let mut feed = Feed::new(o, spent_tx);
    let mut s = Summary {
        records: 0,
        rejected: 0,
        incidents: 0,
        secs: 0.0,
        records_per_s: 0.0,
        files: files.len(),
        events: 0,
        lines: 0,
        stat_lines: 0,
        out_of_window: 0,
        analyzer_late: 0,
        analyzer_future: 0,
        from: None,
        to: None,
        record_secs: 0.0,
        speedup: 0.0,
        ticks: 0,
    };
    // The input that has read the least far next: a merge on time with bounded queues.
    while let Some(i) = inputs
        .iter()
        .enumerate()
        .filter(|(_, x)| !x.done)
        .min_by_key(|(_, x)| x.read_to_us)
        .map(|(i, _)| i)
    {
        let input = &mut inputs[i];
        match input.rx.recv() {
            Ok(Msg::Items(items, rollups)) => {
                for it in items {
                    input.read_to_us = input.read_to_us.max(it.time_us);
                    if let Some(late) = order.push(it) {
                        s.out_of_window += 1;
                        feed.late(late)?;
                    }
                }
                for (b, r) in rollups {
                    if let Some(late) = order.push_rollup(b, r) {
                        feed.late_rollup(&late);
                    }
                }
            }
            Ok(Msg::Bad(b)) => {
                s.rejected += b.rejected;
                on_bad(&b);
            }
            Ok(Msg::Done(c)) => {
                s.lines += c.lines;
                s.stat_lines += c.stat_lines;
                input.done = true;
            }
            Err(_) => input.done = true,
        }
        let watermark = inputs
            .iter()
            .filter(|x| !x.done)
            .map(|x| x.read_to_us)
            .min()
            .unwrap_or(u64::MAX);
        loop {
            let next = match order.pop_ready(watermark) {
                Some(x) => Some(x),
                None if order.over_cap() => order.pop_first(),
                None => None,
            };
            let Some((b, bucket)) = next else { break };
            feed.bucket(b, bucket)?;
        }
    }
    while let Some((b, bucket)) = order.pop_first() {
        feed.bucket(b, bucket)?;
    }
    let reports = feed.reports();
    for r in &reports {
        on_incident(r);
    }
    let secs = wall.elapsed().as_secs_f64();
    s.records = feed.records;
    s.events = feed.events;
    s.incidents = reports.len() as u64;
    s.secs = (secs * 1e3).round() / 1e3;
    s.records_per_s = (feed.records as f64 / secs.max(1e-9)).round();
    if let Some(a) = &feed.analyzer {
        let c = a.counters();
        s.analyzer_late = c.records_late;
        s.analyzer_future = c.records_future;
        s.ticks = c.ticks;
    }
    s.from = feed.first_tick_us;
    s.to = feed.analyzer.as_ref().map(|_| feed.clock.now_us());
    if let (Some(a), Some(b)) = (s.from, s.to) {
        s.record_secs = (b.saturating_sub(a) as f64 / 1e3).round() / 1e3;
        s.speedup = (s.record_secs / secs.max(1e-9) * 10.0).round() / 10.0;
    }
    Ok(s)
}

struct Input {
    rx: Receiver<Msg>,
    /// The latest record time this input has sent.
    read_to_us: u64,
    done: bool,
}

/// The analyzer and the incident book on the records' clock.
struct Feed {
    clock: ManualClock,
    tick_us: u64,
    cfg: AnalyzerConfig,
    /// Built at the first bucket (its clock starts there).
    analyzer: Option<Analyzer>,
    book: IncidentBook,
    plans: Option<Vec<Plan>>,
    /// The next tick boundary (an index of `tick_us`).
    next_tick: u64,
    first_tick_us: Option<u64>,
    records: u64,
    events: u64,
    /// Fed items go back to the readers to be dropped (see `input::Spent`); once they are
    /// done, dropped here.
    spent: std::sync::mpsc::Sender<Vec<Item>>,
}

impl Feed {
    fn new(o: &ReplayOptions, spent: std::sync::mpsc::Sender<Vec<Item>>) -> Self {
        let mut book_cfg = o.incidents.clone();
        // Every incident of the replay is reported at its end.
        book_cfg.history = usize::MAX;
        let plans = o.plans.clone().map(|mut p| {
            // The healer tries plans highest priority first.
            p.sort_by_key(|p| std::cmp::Reverse(p.priority));
            p
        });
        Self {
            clock: ManualClock::new(0),
            tick_us: o.tick_us,
            cfg: o.analyzer.clone(),
            analyzer: None,
            book: IncidentBook::new(book_cfg),
            plans,
            next_tick: 0,
            first_tick_us: None,
            records: 0,
            events: 0,
            spent,
        }
    }

    fn analyzer_at(&mut self, b: u64) -> Result<&mut Analyzer, ReplayError> {
        if self.analyzer.is_none() {
            let start = b * self.tick_us;
            self.clock.set(start);
            self.first_tick_us = Some(start);
            self.next_tick = b + 1;
            self.analyzer = Some(Analyzer::new(
                self.cfg.clone(),
                Arc::new(self.clock.clone()),
            )?);
        }
        Ok(self.analyzer.as_mut().expect("just built"))
    }

    /// One bucket (the items of tick `b`): the empty ticks before it, then its items and
    /// the tick at its end.
    fn bucket(&mut self, b: u64, bucket: Bucket) -> Result<(), ReplayError> {
        self.analyzer_at(b)?;
        if b > self.next_tick + MAX_IDLE_TICKS {
            for _ in 0..MAX_IDLE_TICKS {
                self.step_at(self.next_tick);
                self.next_tick += 1;
            }
            self.next_tick = b;
        }
        while self.next_tick <= b {
            self.step_at(self.next_tick);
            self.next_tick += 1;
        }
        self.clock.set((b + 1) * self.tick_us);
        for it in &bucket.items {
            self.ingest(it);
        }
        // Readers gone: the receiver is dropped and the items with this error.
        let _ = self.spent.send(bucket.items);
        let a = self.analyzer.as_mut().expect("built above");
        for r in &bucket.rollups {
            a.ingest_rollup(r);
        }
        self.step_at(b + 1);
        self.next_tick = b + 2;
        Ok(())
    }

    /// An item whose tick was already released: fed now, as a late arrival is live.
    fn late(&mut self, it: Item) -> Result<(), ReplayError> {
        let b = it.time_us / self.tick_us;
        self.analyzer_at(b)?;
        self.ingest(&it);
        Ok(())
    }

    /// The rollup of records whose tick was already released (fed with them as they came).
    fn late_rollup(&mut self, r: &digest::SecondRollup) {
        if let Some(a) = self.analyzer.as_mut() {
            a.ingest_rollup(r);
        }
    }

    /// A record's keys, instances, versions and failures (`Analyzer::ingest_record`; its
    /// figures come with its tick's rollup, built by the reader) or a change event.
    fn ingest(&mut self, it: &Item) {
        let a = self.analyzer.as_mut().expect("built before ingesting");
        match &it.what {
            What::Record(r) => {
                self.records += 1;
                a.ingest_record(r);
            }
            What::Event(e) => {
                self.events += 1;
                a.ingest_event(e);
            }
        }
    }

    /// The tick at boundary `k`: the analyzer, then the book, at that moment.
    fn step_at(&mut self, k: u64) {
        let now = k * self.tick_us;
        self.clock.set(now);
        let a = self.analyzer.as_mut().expect("built before stepping");
        a.tick();
        let a = &*a;
        self.book.update(
            &Observation {
                now_us: now,
                candidates: a.candidates(),
                any_unhealthy: a.any_unhealthy(),
                calls: &|caller, callee| a.calls_reach(caller, callee),
            },
            |from| a.impact_since(from),
        );
    }

    fn reports(&self) -> Vec<IncidentReport> {
        let mut all: Vec<IncidentReport> = self
            .book
            .all()
            .map(|i| IncidentReport::of(i, self.plan_for(i)))
            .collect();
        all.sort_by_key(|r| r.id);
        all
    }

    fn plan_for(&self, i: &command::Incident) -> Option<Option<PlanChoice>> {
        let plans = self.plans.as_ref()?;
        let trigger = command::trigger_of(i);
        Some(
            plans
                .iter()
                .find(|p| p.matches(&trigger))
                .map(|p| PlanChoice {
                    name: p.name.clone(),
                    description: p.description.clone(),
                    target: trigger.target.clone(),
                }),
        )
    }
}
