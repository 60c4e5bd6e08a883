//! How a fault's strength runs over time: a ramp (`ramp_s`: from nothing to full
//! strength, linearly, over that many seconds after its start) and flapping
//! (`flap_on_s`/`flap_off_s`: on, then off, repeating from its start). Without
//! either the fault is at full strength for its whole window, as before.
//!
//! What a ramp grows: the failure rate (errors, timeout, config-push), the extra
//! delay (latency, slow-ledger) or the load factor above 1 (surge). Kinds with
//! nothing to grow (outages, hot merchant, bad release, pool exhaustion) refuse
//! `ramp_s`. A bad release and a config push (announced once) and a pool
//! exhaustion (it holds slots across a call) refuse flapping.

use super::spec::FaultSpec;
use super::{FaultError, FaultKind};
use digest::Micros;

/// The largest `ramp_s`, `flap_on_s` or `flap_off_s` (one day).
const MAX_S: f64 = 86_400.0;

/// The most active periods the ground truth lists for one fault (the latest ones;
/// the number left out is reported).
pub(crate) const MAX_PERIODS: usize = 1000;

/// A fault's ramp and flapping, in µs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Shape {
    ramp_us: Micros,
    /// (on, off) in µs.
    flap: Option<(Micros, Micros)>,
}

fn seconds(spec: &FaultSpec, field: &str, v: f64) -> Result<Micros, FaultError> {
    if !v.is_finite() || v <= 0.0 || v > MAX_S {
        return Err(spec.err(field, format!("must be seconds within (0, {MAX_S}]")));
    }
    Ok(((v * 1e6) as Micros).max(1))
}

impl Shape {
    /// Checks `ramp_s` and `flap_on_s`/`flap_off_s` against the spec's kind.
    pub(crate) fn check(spec: &FaultSpec) -> Result<Shape, FaultError> {
        use FaultKind::*;
        let mut shape = Shape::default();
        if let Some(r) = spec.ramp_s {
            if !matches!(
                spec.kind,
                Latency | Errors | Timeout | ConfigPush | SlowLedger | Surge
            ) {
                return Err(spec.err(
                    "ramp_s",
                    format!(
                        "a ramp grows a rate, a delay or a load factor; {} has none \
                         (ramp latency, errors, timeout, config-push, slow-ledger or surge)",
                        spec.kind
                    ),
                ));
            }
            shape.ramp_us = seconds(spec, "ramp_s", r)?;
        }
        match (spec.flap_on_s, spec.flap_off_s) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(spec.err("flap_off_s", "flap_on_s needs flap_off_s (both or neither)"))
            }
            (None, Some(_)) => {
                return Err(spec.err("flap_on_s", "flap_off_s needs flap_on_s (both or neither)"))
            }
            (Some(on), Some(off)) => {
                if matches!(spec.kind, BadRelease | ConfigPush | PoolExhaustion) {
                    return Err(spec.err(
                        "flap_on_s",
                        format!(
                            "{} cannot flap (a release or a config push is announced once; \
                             an exhausted pool holds slots across calls)",
                            spec.kind
                        ),
                    ));
                }
                shape.flap = Some((
                    seconds(spec, "flap_on_s", on)?,
                    seconds(spec, "flap_off_s", off)?,
                ));
            }
        }
        Ok(shape)
    }

    /// Is a flapping fault in an on phase at `now` (always, if it does not flap)?
    /// `now` is at or after `start`.
    pub(crate) fn is_on(&self, start: Micros, now: Micros) -> bool {
        match self.flap {
            None => true,
            Some((on, off)) => (now.saturating_sub(start)) % (on + off) < on,
        }
    }

    /// Share of full strength at `now` (0..=1): the ramp's progress, 1 without one.
    #[inline]
    pub(crate) fn strength(&self, start: Micros, now: Micros) -> f64 {
        if self.ramp_us == 0 {
            return 1.0;
        }
        (now.saturating_sub(start) as f64 / self.ramp_us as f64).min(1.0)
    }

    /// Does it ramp?
    pub(crate) fn ramps(&self) -> bool {
        self.ramp_us > 0
    }

    /// The periods `[from, to)` the fault was really on, within its window
    /// `[start, end)` and up to `now` (a period still running has `to = None`):
    /// the latest [`MAX_PERIODS`], and how many earlier ones were left out.
    pub(crate) fn periods(
        &self,
        start: Micros,
        end: Option<Micros>,
        now: Micros,
    ) -> (Vec<(Micros, Option<Micros>)>, u64) {
        if now < start || end.is_some_and(|e| e <= start) {
            return (Vec::new(), 0);
        }
        let stop = end.map_or(now, |e| e.min(now));
        let (on, off) = match self.flap {
            None => return (vec![(start, end.filter(|e| *e <= now))], 0),
            Some(x) => x,
        };
        let cycle = on + off;
        let cycles = (stop - start) / cycle + 1;
        let skipped = cycles.saturating_sub(MAX_PERIODS as u64);
        let mut out = Vec::with_capacity((cycles - skipped) as usize);
        for k in skipped..cycles {
            let from = start + k * cycle;
            if from > stop || (from == stop && end.is_some_and(|e| e <= now)) {
                break;
            }
            let mut to = from + on;
            if let Some(e) = end {
                to = to.min(e);
            }
            out.push((from, (to <= now).then_some(to)));
        }
        (out, skipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: FaultKind) -> FaultSpec {
        FaultSpec::new(kind)
    }

    #[test]
    fn a_ramp_grows_linearly_then_holds() {
        let mut s = spec(FaultKind::Errors);
        s.ramp_s = Some(10.0);
        let sh = Shape::check(&s).unwrap();
        assert_eq!(sh.strength(100, 100), 0.0);
        assert!((sh.strength(100, 100 + 2_500_000) - 0.25).abs() < 1e-9);
        assert_eq!(sh.strength(100, 100 + 10_000_000), 1.0);
        assert_eq!(sh.strength(100, 100 + 99_000_000), 1.0);
        assert_eq!(
            Shape::default().strength(0, 0),
            1.0,
            "no ramp: full strength"
        );
    }

    #[test]
    fn flapping_is_on_then_off_from_the_start() {
        let mut s = spec(FaultKind::BankOutage);
        s.flap_on_s = Some(4.0);
        s.flap_off_s = Some(2.0);
        let sh = Shape::check(&s).unwrap();
        let on: Vec<bool> = (0..12).map(|k| sh.is_on(0, k * 1_000_000)).collect();
        assert_eq!(
            on,
            [true, true, true, true, false, false, true, true, true, true, false, false]
        );
        let (p, skipped) = sh.periods(0, Some(11_000_000), 7_000_000);
        assert_eq!(skipped, 0);
        assert_eq!(p, vec![(0, Some(4_000_000)), (6_000_000, None)]);
        let (p, _) = sh.periods(0, Some(8_000_000), 20_000_000);
        assert_eq!(p, vec![(0, Some(4_000_000)), (6_000_000, Some(8_000_000))]);
        let (p, _) = sh.periods(5, None, 1);
        assert!(p.is_empty(), "not started yet");
    }

    #[test]
    fn periods_are_capped_and_counted() {
        let mut s = spec(FaultKind::Latency);
        s.flap_on_s = Some(1.0);
        s.flap_off_s = Some(1.0);
        let sh = Shape::check(&s).unwrap();
        let (p, skipped) = sh.periods(0, None, 3_000_000_000);
        assert_eq!(p.len(), MAX_PERIODS);
        assert_eq!(skipped, 1501 - MAX_PERIODS as u64);
        assert_eq!(p.last().unwrap().0, 3_000_000_000);
    }

    #[test]
    fn refusals_name_the_field() {
        let mut s = spec(FaultKind::BankOutage);
        s.ramp_s = Some(5.0);
        assert_eq!(Shape::check(&s).unwrap_err().field, "ramp_s");
        let mut s = spec(FaultKind::Errors);
        s.ramp_s = Some(0.0);
        assert_eq!(Shape::check(&s).unwrap_err().field, "ramp_s");
        s.ramp_s = None;
        s.flap_on_s = Some(3.0);
        assert_eq!(Shape::check(&s).unwrap_err().field, "flap_off_s");
        s.flap_off_s = Some(-1.0);
        assert_eq!(Shape::check(&s).unwrap_err().field, "flap_off_s");
        let mut s = spec(FaultKind::ConfigPush);
        s.flap_on_s = Some(1.0);
        s.flap_off_s = Some(1.0);
        assert_eq!(Shape::check(&s).unwrap_err().field, "flap_on_s");
    }
}
