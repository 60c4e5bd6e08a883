//! A noise run (`warroom drill --noise SECONDS`): no fault at all, only traffic a real
//! platform sees every day — a daily load curve (compressed into the run), a legitimate
//! flash crowd within capacity, and a burst of business declines — and the count of what
//! the war room opened or did about it, which must be nothing.

use super::{round3, Driver};
use crate::StackError;
use digest::Clock;
use serde_json::{json, Value};
use std::time::Instant;

/// The rate multiplier at `t` of `secs`: one daily curve over the run (±30 %), and a flash
/// crowd of ×1.6 for 20 s a third of the way in (3 s up, 3 s down).
pub fn noise_shape(t_s: f64, secs: f64) -> f64 {
    let curve = 1.0 + 0.3 * (std::f64::consts::TAU * t_s / secs.max(60.0)).sin();
    let at = secs / 3.0;
    let crowd = if t_s < at || t_s > at + 20.0 {
        1.0
    } else {
        let up = ((t_s - at) / 3.0).min(1.0);
        let down = ((at + 20.0 - t_s) / 3.0).min(1.0);
        1.0 + 0.6 * up.min(down)
    };
    curve * crowd
}

impl Driver {
    /// `secs` of noisy, fault-free traffic; counts incidents opened and plans run.
    pub async fn noise(&mut self, secs: u64) -> Result<Value, StackError> {
        let wall = Instant::now();
        let start_us = self.clock.now_us();
        let before: u64 = self
            .stack
            .room
            .command
            .book(|b| b.all().map(|i| i.id).max().unwrap_or(0));
        let declines_at = secs * 2 / 3;
        let mut flagged_steps = 0u64;
        let mut declines_on = false;
        for step in 0..secs * 10 {
            let t = step as f64 / 10.0;
            self.load_shape = noise_shape(t, secs as f64);
            // A burst of business declines for 15 s two thirds of the way in.
            let want = (declines_at * 10..(declines_at + 15) * 10).contains(&step);
            if want != declines_on {
                self.stack
                    .control
                    .put_declines(if want { 0.3 } else { 0.0 })
                    .await?;
                declines_on = want;
            }
            self.step().await;
            if !self.stack.room.analyzer.lock().candidates().is_empty() {
                flagged_steps += 1;
            }
        }
        self.load_shape = 1.0;
        if declines_on {
            self.stack.control.put_declines(0.0).await?;
        }
        let opened: Vec<Value> = self.stack.room.command.book(|b| {
            b.all()
                .filter(|i| i.id > before)
                .map(|i| {
                    json!({
                        "id": i.id,
                        "title": i.title(),
                        "at_s": round3(i.diagnosed_us.saturating_sub(start_us) as f64 / 1e6),
                        "runs": i.runs.iter().map(|r| &r.plan).collect::<Vec<_>>(),
                    })
                })
                .collect()
        });
        let plans_run: usize = self.stack.room.command.book(|b| {
            b.all()
                .flat_map(|i| i.runs.iter())
                .filter(|r| r.started_us >= start_us)
                .count()
        });
        Ok(json!({
            "noise_s": secs,
            "incidents_opened": opened.len(),
            "plans_run": plans_run,
            "flagged_s": round3(flagged_steps as f64 / 10.0),
            "incidents": opened,
            "wall_s": round3(wall.elapsed().as_secs_f64()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::noise_shape;

    #[test]
    fn the_shape_is_a_curve_with_one_flash_crowd() {
        let secs = 600.0;
        assert!((noise_shape(0.0, secs) - 1.0).abs() < 1e-9);
        let peak = noise_shape(150.0, secs);
        assert!((peak - 1.3).abs() < 1e-6, "a quarter of the curve: {peak}");
        let crowd = noise_shape(210.0, secs);
        assert!(
            crowd > 1.9 && crowd < 2.1,
            "flash crowd on the curve: {crowd}"
        );
        assert!(noise_shape(450.0, secs) < 0.71, "the night");
    }
}
