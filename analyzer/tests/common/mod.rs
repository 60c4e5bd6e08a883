//! A synthetic payment system for the analyzer's tests: it writes the digests
//! payments-sim writes (server, client and integrator records with scene, zone,
//! version, instance and business keys; root records for payments) for a
//! cashier → trade → payment → {risk, payment-engine → {bank-gateway → bank,
//! accounting}} call tree, and can break in every way payments-sim can. The
//! analyzer never sees the fault, only the digests and change events.
#![allow(dead_code)]

use analyzer::{Analyzer, AnalyzerConfig};
use digest::{
    ChangeEvent, ChangeKind, Clock, DigestRecord, Keys, ManualClock, SpanId, SpanKind, TraceId,
};
use std::sync::Arc;

pub const T0: u64 = 1_795_784_400_000_000; // 2026-11-27T13:00:00Z
pub const BANKS: [&str; 3] = ["icbc", "ccb", "abc"];

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    None,
    BankOutage(&'static str),
    BankTimeout(&'static str),
    Latency(&'static str, u64),
    Errors(&'static str, f64),
    BadRelease(&'static str),
    HotMerchant(&'static str),
    ZoneOutage(&'static str),
    Surge(f64),
    PoolExhaustion(&'static str),
    SlowLedger,
    /// Errors on shadow traffic only (stress test going wrong).
    ShadowErrors(&'static str),
    /// One instance (`payment-engine-2`) slow by this many ms.
    InstanceLatency(&'static str, u64),
    /// One instance failing this share of its calls.
    InstanceErrors(&'static str, f64),
    /// An operator's config push (a `config` change event, no version) after which the
    /// service fails 40 % of its calls.
    ConfigPush(&'static str),
    /// Not a fault: this share of payments declined by the payment engine for business
    /// reasons (`INSUFFICIENT_FUNDS`), as a burst of customers without money does.
    Declines(f64),
}

/// Instances per service, as payments-sim lays them out by default: `{svc}-{n}`,
/// n = 1..=4, instance n in zone `ZONES[(n - 1) % 2]`; a call picks an
/// instance of the callee in its own zone.
pub const ZONES: [&str; 2] = ["z1", "z2"];
pub const INSTANCES: u64 = 4;

fn instance_of(svc: &str, zone: &str, pick: u64) -> String {
    let zi = ZONES.iter().position(|z| *z == zone).unwrap_or(0) as u64;
    let per_zone = INSTANCES / ZONES.len() as u64;
    let n = 1 + zi + ZONES.len() as u64 * (pick % per_zone);
    format!("{svc}-{n}")
}

pub struct Sim {
    pub clock: ManualClock,
    pub analyzer: Analyzer,
    pub tps: f64,
    pub shadow_fraction: f64,
    pub fault: Fault,
    pub fault_start_us: u64,
    /// Until this time, merchants are drawn uniformly instead of Zipf-ishly
    /// (a cold start whose first seconds do not look like the steady load).
    pub uniform_merchants_until_us: u64,
    seed: u64,
    next_id: u64,
    carry: f64,
    pub records: u64,
    /// The incidents the war room opens from the analyzer's candidates.
    pub book: command::IncidentBook,
}

pub fn test_config() -> AnalyzerConfig {
    AnalyzerConfig {
        baseline_s: 20,
        retention_1s: 40,
        ..Default::default()
    }
}

impl Sim {
    pub fn new(tps: f64) -> Self {
        let clock = ManualClock::new(T0);
        let analyzer = Analyzer::new(test_config(), Arc::new(clock.clone())).unwrap();
        Self {
            clock,
            analyzer,
            tps,
            shadow_fraction: 0.0,
            fault: Fault::None,
            fault_start_us: 0,
            uniform_merchants_until_us: 0,
            seed: 0x9e37_79b9_7f4a_7c15,
            next_id: 1,
            carry: 0.0,
            records: 0,
            book: command::IncidentBook::new(command::BookConfig::default()),
        }
    }

    pub fn now(&self) -> u64 {
        self.clock.now_us()
    }

    fn rand(&mut self) -> u64 {
        // xorshift64*
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.rand() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Zipf-ish merchant pick over 200 merchants.
    fn merchant(&mut self) -> String {
        let u = self.unit();
        format!("m{}", ((200f64).powf(u) as u64).min(199))
    }

    /// Starts a fault now (a bad release also emits its deploy event).
    pub fn inject(&mut self, f: Fault) {
        self.fault_start_us = self.now();
        if let Fault::ConfigPush(s) = f {
            self.analyzer.ingest_event(&ChangeEvent {
                time_us: self.now(),
                event: ChangeKind::Config,
                service: s.to_string(),
                version: String::new(),
                detail: format!("{s} config cfg-1 -> cfg-2"),
                by: "ops-lin".into(),
            });
        }
        if let Fault::BadRelease(s) = f {
            self.analyzer.ingest_event(&ChangeEvent {
                time_us: self.now(),
                event: ChangeKind::Deploy,
                service: s.to_string(),
                version: "v2.3".into(),
                detail: "release 2.3".into(),
                by: "ci".into(),
            });
        }
        self.fault = f;
    }

    /// Ends the fault now (a bad release is rolled back, with its event).
    pub fn clear(&mut self) {
        if let Fault::BadRelease(s) = self.fault {
            self.analyzer.ingest_event(&ChangeEvent {
                time_us: self.now(),
                event: ChangeKind::Rollback,
                service: s.to_string(),
                version: "v2.2".into(),
                detail: "rollback to 2.2".into(),
                by: "healer".into(),
            });
        }
        self.fault = Fault::None;
    }

    pub fn reseed(&mut self, seed: u64) {
        self.seed = seed | 1;
    }

    /// Runs for `secs` in 100 ms steps, ticking after each; calls `each` after every tick.
    pub fn run(&mut self, secs: f64, mut each: impl FnMut(&mut Sim)) {
        let steps = (secs * 10.0).round() as u64;
        for _ in 0..steps {
            let start = self.now();
            let rate = match self.fault {
                Fault::Surge(f) => self.tps * f,
                _ => self.tps,
            };
            let n_f = rate / 10.0 + self.carry;
            let n = n_f.floor() as u64;
            self.carry = n_f - n as f64;
            for i in 0..n {
                let t = start + i * 100_000 / n.max(1);
                self.payment(t);
            }
            self.clock.set(start + 100_000);
            self.tick();
            each(self);
        }
    }

    /// The analyzer's tick, then the incident book's update from it.
    pub fn tick(&mut self) {
        self.analyzer.tick();
        let a = &self.analyzer;
        self.book.update(
            &command::Observation {
                now_us: self.clock.now_us(),
                candidates: a.candidates(),
                any_unhealthy: a.any_unhealthy(),
                calls: &|x, y| a.calls_reach(x, y),
            },
            |from| a.impact_since(from),
        );
    }

    pub fn warm_up(&mut self) {
        self.run(25.0, |_| {});
    }

    fn emit(&mut self, r: DigestRecord) {
        self.records += 1;
        self.analyzer.ingest_raw(&r);
    }

    fn payment(&mut self, t: u64) {
        let id = self.next_id;
        self.next_id += 1;
        let shadow = self.unit() < self.shadow_fraction;
        let user = format!("u{}", self.rand() % 50_000);
        let hot = matches!(self.fault, Fault::HotMerchant(_)) && self.unit() < 0.6;
        let merchant = match self.fault {
            Fault::HotMerchant(m) if hot => m.to_string(),
            _ if t < self.uniform_merchants_until_us => format!("m{}", self.rand() % 200),
            _ => self.merchant(),
        };
        let card = self.unit() < 0.7;
        let bank = BANKS[(self.rand() % 3) as usize];
        let zone = if self.rand().is_multiple_of(2) {
            "z1"
        } else {
            "z2"
        };
        let mut keys = Keys::new();
        keys.insert("user".into(), user);
        keys.insert("account".into(), format!("acct-{merchant}"));
        keys.insert("merchant".into(), merchant);
        keys.insert("bank".into(), bank.into());
        let p = Pay {
            trace: TraceId(((id as u128) << 64) | 0xabcd),
            scene: if card { "quick_pay" } else { "balance_pay" },
            zone,
            shadow,
            keys,
            bank,
            card,
            amount: 1000 + (self.rand() % 90_000) as i64,
        };
        self.serve(&p, "cashier", None, "app", "cashier.pay", t);
    }

    fn children(p: &Pay, svc: &str) -> Vec<(&'static str, &'static str)> {
        match svc {
            "cashier" => vec![("trade", "trade.create")],
            "trade" => vec![("payment", "payment.pay")],
            "payment" => vec![("risk", "risk.check"), ("payment-engine", "engine.pay")],
            "payment-engine" if p.card => vec![
                ("bank-gateway", "gateway.debit"),
                ("accounting", "ledger.post"),
            ],
            "payment-engine" => vec![("accounting", "ledger.post")],
            _ => vec![],
        }
    }

    fn span(&mut self) -> SpanId {
        SpanId(self.rand() | 1)
    }

    /// One service handling a call: returns (duration, ok, code).
    #[allow(clippy::too_many_arguments)]
    fn serve(
        &mut self,
        p: &Pay,
        svc: &'static str,
        parent: Option<SpanId>,
        peer: &str,
        op: &str,
        t: u64,
    ) -> (u64, bool, String) {
        let span = self.span();
        let pick = self.rand();
        let inst = instance_of(svc, p.zone, pick);
        let fault = self.fault.clone();
        let active = !matches!(fault, Fault::None);
        let mut own = 300 + self.rand() % 700;
        let mut fail: Option<&str> = None;
        let mut version = "v2.2";
        match fault {
            Fault::Latency(s, ms) if s == svc => own += ms * 1000,
            Fault::InstanceLatency(i, ms) if i == inst => own += ms * 1000,
            Fault::InstanceErrors(i, r) if i == inst && self.unit() < r => {
                fail = Some("SYSTEM_ERROR")
            }
            Fault::SlowLedger if svc == "accounting" => own += 150_000,
            Fault::Errors(s, r) if s == svc && self.unit() < r => fail = Some("SYSTEM_ERROR"),
            Fault::ConfigPush(s) if s == svc && self.unit() < 0.4 => fail = Some("SYSTEM_ERROR"),
            Fault::Declines(r) if svc == "payment-engine" && self.unit() < r => {
                fail = Some("INSUFFICIENT_FUNDS")
            }
            Fault::ShadowErrors(s) if s == svc && p.shadow && self.unit() < 0.5 => {
                fail = Some("SYSTEM_ERROR")
            }
            Fault::BadRelease(s) if s == svc => {
                version = "v2.3";
                if self.unit() < 0.4 {
                    fail = Some("NULL_POINTER");
                }
            }
            Fault::PoolExhaustion(s) if s == svc && self.unit() < 0.6 => {
                own = 200;
                fail = Some("POOL_EXHAUSTED");
            }
            Fault::HotMerchant(m)
                if svc == "accounting" && p.keys.get("merchant").map(String::as_str) == Some(m) =>
            {
                own += 40_000 + self.rand() % 40_000;
                if self.unit() < 0.2 {
                    fail = Some("ACCOUNT_LOCK_TIMEOUT");
                }
            }
            Fault::Surge(_) if svc == "trade" && self.unit() < 0.5 => {
                fail = Some("SYSTEM_BUSY");
            }
            _ => {}
        }
        let _ = active;
        let mut dur = own;
        let mut ok = fail.is_none();
        let mut code = fail.unwrap_or("SUCCESS").to_string();
        if ok {
            for (child, cop) in Self::children(p, svc) {
                let ct = t + dur;
                let cspan = self.span();
                let (cd, cok, ccode) =
                    if matches!(fault, Fault::ZoneOutage(z) if z == p.zone) && svc == "cashier" {
                        (500_000, false, "CONNECT_TIMEOUT".to_string())
                    } else {
                        let (d, o, c) = self.serve(p, child, Some(cspan), svc, cop, ct + 100);
                        (d + 200, o, c)
                    };
                self.emit(record(
                    p,
                    SpanKind::Client,
                    svc,
                    child,
                    cop,
                    ct,
                    cd,
                    cok,
                    &ccode,
                    cspan,
                    Some(span),
                    "v2.2",
                    &inst,
                ));
                dur += cd;
                if !cok {
                    ok = false;
                    code = ccode;
                    break;
                }
            }
            if ok && svc == "bank-gateway" {
                let ct = t + dur;
                let (bd, bok, bcode) = match fault {
                    Fault::BankOutage(b) if b == p.bank => (2_000, false, "BANK_UNAVAILABLE"),
                    Fault::BankTimeout(b) if b == p.bank => (3_000_000, false, "BANK_TIMEOUT"),
                    _ => (20_000 + self.rand() % 30_000, true, "SUCCESS"),
                };
                let bspan = self.span();
                self.emit(record(
                    p,
                    SpanKind::Integrator,
                    svc,
                    p.bank,
                    "bank.debit",
                    ct,
                    bd,
                    bok,
                    bcode,
                    bspan,
                    Some(span),
                    "v2.2",
                    &inst,
                ));
                dur += bd;
                if !bok {
                    ok = false;
                    code = bcode.to_string();
                }
            }
        }
        let mut r = record(
            p,
            SpanKind::Server,
            svc,
            peer,
            op,
            t,
            dur,
            ok,
            &code,
            span,
            parent,
            version,
            &inst,
        );
        if parent.is_none() {
            r.amount_cents = Some(p.amount);
        }
        self.emit(r);
        (dur, ok, code)
    }
}

pub struct Pay {
    trace: TraceId,
    scene: &'static str,
    zone: &'static str,
    shadow: bool,
    keys: Keys,
    bank: &'static str,
    card: bool,
    amount: i64,
}

#[allow(clippy::too_many_arguments)]
fn record(
    p: &Pay,
    kind: SpanKind,
    svc: &str,
    peer: &str,
    op: &str,
    t: u64,
    dur: u64,
    ok: bool,
    code: &str,
    span: SpanId,
    parent: Option<SpanId>,
    version: &str,
    instance: &str,
) -> DigestRecord {
    DigestRecord {
        time_us: t,
        trace_id: p.trace,
        span_id: span,
        parent_span_id: parent,
        kind,
        service: svc.to_string(),
        instance: instance.to_string(),
        zone: p.zone.to_string(),
        operation: op.to_string(),
        peer: peer.to_string(),
        duration_us: dur,
        success: ok,
        code: code.to_string(),
        error: if ok { None } else { Some("BizError".into()) },
        scene: p.scene.to_string(),
        channel: "SDK".into(),
        shadow: p.shadow,
        version: version.to_string(),
        keys: p.keys.clone(),
        amount_cents: Some(p.amount),
        sql_count: None,
    }
}
