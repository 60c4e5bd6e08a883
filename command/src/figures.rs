//! The north-star figures the overview shows, with the rules that decide when a figure
//! means something: MTTR over the incidents a plan healed, and the error budget left,
//! judged only once an objective's period has room for ten failures (before that one bad
//! call reads as a spent budget).

use crate::book::IncidentBook;

/// Failures an objective's period must be able to afford before its budget is shown.
const BUDGET_JUDGED_AT_FAILURES: f64 = 10.0;

/// The tightest error budget left (0..=1) over every objective's period that can afford
/// ten failures; `None` while none can.
pub fn error_budget_left(status: &[sla::ObjectiveStatus]) -> Option<f64> {
    let budgets: Vec<f64> = status
        .iter()
        .flat_map(|s| {
            s.slis
                .iter()
                .filter(|x| {
                    (1.0 - x.period.target) * x.period.total as f64 >= BUDGET_JUDGED_AT_FAILURES
                })
                .map(|x| x.period.budget_remaining)
        })
        .collect();
    (!budgets.is_empty()).then(|| budgets.iter().cloned().fold(1.0, f64::min).max(0.0))
}

/// MTTR (seconds) of the incident a plan healed last, and the average over every healed
/// incident the book holds.
pub fn healed_mttr(book: &IncidentBook) -> (Option<f64>, Option<f64>) {
    let mut healed: Vec<(u64, f64)> = book
        .all()
        .filter(|i| i.runs.iter().any(|r| r.recovered_us.is_some()))
        .filter_map(|i| Some((i.recovered_us?, i.mttr_s()?)))
        .collect();
    healed.sort_by_key(|(at, _)| *at);
    let last = healed.last().map(|(_, m)| *m);
    let avg = (!healed.is_empty())
        .then(|| healed.iter().map(|(_, m)| m).sum::<f64>() / healed.len() as f64);
    (last, avg)
}
