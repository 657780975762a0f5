//! The bench's report: the machine, the run's parameters, Boxoffice's figures, the floor's, and
//! their ratios; printed as a table or as JSON.

use std::fmt::Write as _;

use serde::Serialize;

use super::{
    BenchArgs, floor::FloorFigures, load::Latency, onsale::OnSaleFigures,
    workload::BoxofficeFigures,
};
use kernel::Synchronous;

/// Everything one `boxoffice bench` run reports.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) date: String,
    pub(crate) command: String,
    pub(crate) machine: Machine,
    pub(crate) synchronous: String,
    pub(crate) concurrency: usize,
    pub(crate) rate: Option<f64>,
    pub(crate) decline_rate: f64,
    pub(crate) card_rate: f64,
    pub(crate) read_rate: f64,
    /// `reserved` (seated shows, best available) or `general` (admissions by count).
    pub(crate) seating: &'static str,
    /// Clients logging in beside the load.
    pub(crate) login_flood: usize,
    pub(crate) boxoffice: Option<BoxofficeFigures>,
    /// The same load against one process per module (`--topology split` or `both`).
    pub(crate) split: Option<BoxofficeFigures>,
    pub(crate) floor: Option<FloorFigures>,
    /// `--scenario onsale`.
    pub(crate) onsale: Option<OnSaleFigures>,
    pub(crate) ratios: Option<Ratios>,
    pub(crate) split_ratios: Option<SplitRatios>,
}

/// Where the figures were measured.
#[derive(Debug, Serialize)]
pub(crate) struct Machine {
    pub(crate) cpu: String,
    pub(crate) cores: usize,
    pub(crate) memory_gib: f64,
    pub(crate) os: String,
}

/// Boxoffice against its floor.
#[derive(Debug, Serialize)]
pub(crate) struct Ratios {
    /// Booking intake / minimal actix insert requests per second.
    pub(crate) intake_vs_actix_floor: f64,
    /// Booking intake / raw SQLite commits per second.
    pub(crate) intake_vs_sqlite_floor: f64,
    /// Settled (confirmed or cancelled) per second / intake per second, over the same window.
    pub(crate) settled_vs_intake: f64,
}

/// The split deployment against the monolith, measured in the same run.
#[derive(Debug, Serialize)]
pub(crate) struct SplitRatios {
    /// Split intake / monolith intake.
    pub(crate) split_intake_vs_monolith: f64,
    /// Split placed→confirmed p99 / monolith's.
    pub(crate) split_saga_p99_vs_monolith: f64,
}

impl Machine {
    fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or_else(
                || std::env::consts::ARCH.to_owned(),
                |s| s.trim().to_owned(),
            );
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            memory_gib: (memory_kib / 1_048_576.0 * 10.0).round() / 10.0,
            os: format!("{} {}", std::env::consts::OS, release.trim()),
        }
    }
}

impl Report {
    pub(super) fn new(args: &BenchArgs, synchronous: Synchronous) -> Report {
        Report {
            date: kernel::Timestamp::now().to_string(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            machine: Machine::detect(),
            synchronous: synchronous.to_string(),
            concurrency: args.concurrency,
            rate: args.rate,
            decline_rate: args.decline_rate,
            card_rate: args.card_rate,
            read_rate: args.read_rate,
            seating: if args.general_admission {
                "general"
            } else {
                "reserved"
            },
            login_flood: args.login_flood,
            boxoffice: None,
            split: None,
            floor: None,
            onsale: None,
            ratios: None,
            split_ratios: None,
        }
    }

    /// Computes the ratios once both sides are in.
    pub(super) fn finish(&mut self) {
        if let (Some(b), Some(f)) = (&self.boxoffice, &self.floor) {
            self.ratios = Some(Ratios {
                intake_vs_actix_floor: b.intake_per_sec / f.actix_insert_per_sec.max(1e-9),
                intake_vs_sqlite_floor: b.intake_per_sec / f.sqlite_commits_per_sec.max(1e-9),
                settled_vs_intake: b.settled_per_sec / b.intake_per_sec.max(1e-9),
            });
        }
        if let (Some(m), Some(s)) = (&self.boxoffice, &self.split) {
            self.split_ratios = Some(SplitRatios {
                split_intake_vs_monolith: s.intake_per_sec / m.intake_per_sec.max(1e-9),
                split_saga_p99_vs_monolith: s.saga.p99_ms / m.saga.p99_ms.max(1e-9),
            });
        }
    }

    /// The human-readable report.
    pub(super) fn table(&self) -> String {
        let mut o = String::new();
        let m = &self.machine;
        let _ = writeln!(o, "boxoffice bench, {}", self.date);
        let _ = writeln!(
            o,
            "machine: {} cores, {:.1} GiB, {} ({})",
            m.cores, m.memory_gib, m.cpu, m.os
        );
        let _ = writeln!(
            o,
            "load:    {} clients{}, {} seating, synchronous={}, {:.0}% declined cards, {:.0}% cards, {:.0}% reads",
            self.concurrency,
            self.rate
                .map_or(String::new(), |r| format!(" paced at {r}/s")),
            self.seating,
            self.synchronous,
            self.decline_rate * 100.0,
            self.card_rate * 100.0,
            self.read_rate * 100.0,
        );
        if self.login_flood > 0 {
            let _ = writeln!(
                o,
                "         and {} clients logging in without pause",
                self.login_flood
            );
        }
        if let Some(s) = &self.onsale {
            on_sale(&mut o, s);
        }
        if let Some(b) = &self.boxoffice {
            figures(&mut o, "Boxoffice", b);
        }
        if let Some(b) = &self.split {
            figures(&mut o, "Boxoffice split (one process per module)", b);
        }
        if let Some(f) = &self.floor {
            let _ = writeln!(
                o,
                "\nFloor (same machine, same pragmas, same load generator):"
            );
            let _ = writeln!(
                o,
                "  SQLite one-row commits  {:>9.0} /s",
                f.sqlite_commits_per_sec
            );
            let _ = writeln!(
                o,
                "  group commit            {:>9.0} rows/s  ({} rows per commit, a savepoint each)",
                f.group_commit_rows_per_sec,
                crate::floor::GROUP
            );
            let _ = writeln!(
                o,
                "  actix + one insert      {:>9.0} req/s  ({} errors)",
                f.actix_insert_per_sec, f.actix_errors
            );
            row(&mut o, "POST /floor", &f.actix_insert_http);
            if let Some(s) = &f.server {
                let _ = writeln!(
                    o,
                    "  floor server       peak RSS {:.1} MB, CPU {:.1} s",
                    s.peak_rss_bytes as f64 / 1e6,
                    s.cpu_seconds
                );
            }
        }
        if let Some(r) = &self.split_ratios {
            let _ = writeln!(o, "\nSplit against the monolith (same run):");
            let _ = writeln!(
                o,
                "  split intake / monolith intake        {:>5.0}%",
                r.split_intake_vs_monolith * 100.0
            );
            let _ = writeln!(
                o,
                "  split p99 placed→confirmed / monolith {:>5.1}×",
                r.split_saga_p99_vs_monolith
            );
        }
        if let Some(r) = &self.ratios {
            let _ = writeln!(o, "\nRatios:");
            let _ = writeln!(
                o,
                "  booking intake / actix+insert floor   {:>5.0}%",
                r.intake_vs_actix_floor * 100.0
            );
            let _ = writeln!(
                o,
                "  booking intake / SQLite commit floor  {:>5.0}%",
                r.intake_vs_sqlite_floor * 100.0
            );
            let _ = writeln!(
                o,
                "  settled / intake (same window)        {:>5.0}%",
                r.settled_vs_intake * 100.0
            );
        }
        o
    }
}

fn figures(o: &mut String, title: &str, b: &BoxofficeFigures) {
    let _ = writeln!(o, "\n{title}: {}", b.target);
    if let Some(p) = &b.preloaded {
        let _ = writeln!(
            o,
            "  history            {} bookings preloaded in {:.0} s ({:.0}/s, saga included)",
            p.bookings,
            p.seconds,
            p.bookings as f64 / p.seconds.max(1e-9)
        );
    }
    let _ = writeln!(
        o,
        "  booking intake     {:>9.0} accepted/s   ({} in {:.1} s; {} refused, {} errors)",
        b.intake_per_sec, b.accepted, b.seconds, b.refused, b.errors
    );
    row(o, "POST /api/bookings", &b.booking_http);
    if b.reads_http.count > 0 {
        row(o, "mixed reads", &b.reads_http);
    }
    row(o, "saga placed→confirmed", &b.saga);
    let _ = writeln!(
        o,
        "  settled            {:>9.0} /s           ({:.0} confirmed/s while loading; in all {} confirmed, {} cancelled, {} still pending)",
        b.settled_per_sec, b.confirmed_per_sec, b.confirmed, b.cancelled, b.still_pending
    );
    let max_backlog = b.backlog_samples.iter().max().copied().unwrap_or(0);
    let _ = writeln!(
        o,
        "  backlog            max {max_backlog} events, trend {:+.1} events/s over {} samples (1/s): {}",
        b.backlog_trend_per_sec,
        b.backlog_samples.len(),
        sparkline(&b.backlog_samples)
    );
    if let (Some(lo), Some(hi)) = (
        b.rss_samples_mb.iter().copied().reduce(f64::min),
        b.rss_samples_mb.iter().copied().reduce(f64::max),
    ) {
        let _ = writeln!(
            o,
            "  server memory      RSS {lo:.1}–{hi:.1} MB while loading, trend {:+.2} MB/min over {} samples (1/s)",
            b.rss_trend_mb_per_min,
            b.rss_samples_mb.len()
        );
    }
    let _ = writeln!(
        o,
        "  read model lag     {} events, {} ms at the end of the load; all caught up {} ms later",
        b.read_model_lag_events, b.read_model_lag_ms, b.drain_ms
    );
    let _ = writeln!(o, "  event propagation (outbox commit → handled):");
    for p in &b.propagation {
        let _ = writeln!(
            o,
            "    {:<28} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms  ({} events)",
            p.subscription, p.p50_ms, p.p99_ms, p.max_ms, p.handled
        );
    }
    if let Some(f) = &b.login_flood {
        let _ = writeln!(
            o,
            "  login flood        {:>9.0} attempts/s   ({} clients: {} logged in, {} refused busy or throttled, {} errors)",
            f.attempts_per_sec, f.clients, f.logged_in, f.refused, f.errors
        );
        row(o, "POST /api/session", &f.http);
    }
    if !b.read_probe.is_empty() {
        let _ = writeln!(o, "  reads after the load (sequential):");
        for p in &b.read_probe {
            row(o, &format!("  {}", p.name), &p.latency);
        }
    }
    if b.queries_per_booking.is_some() || b.context_switches_per_booking.is_some() {
        let show =
            |v: Option<f64>| v.map_or_else(|| "not counted".to_owned(), |v| format!("{v:.1}"));
        let _ = writeln!(
            o,
            "  per booking        {} SQLite queries, {} context switches (all the server did over the load and its drain, per accepted booking)",
            show(b.queries_per_booking),
            show(b.context_switches_per_booking)
        );
    }
    if let Some(s) = &b.server {
        let _ = writeln!(
            o,
            "  server             peak RSS {:.1} MB, CPU {:.1} s",
            s.peak_rss_bytes as f64 / 1e6,
            s.cpu_seconds
        );
    }
    for p in &b.processes {
        let _ = writeln!(
            o,
            "  {:<18} peak RSS {:.1} MB, CPU {:.1} s",
            format!("{} process", p.module),
            p.stats.peak_rss_bytes as f64 / 1e6,
            p.stats.cpu_seconds
        );
    }
}

fn on_sale(o: &mut String, s: &OnSaleFigures) {
    let _ = writeln!(o, "\nOn sale: {}", s.target);
    let _ = writeln!(
        o,
        "  the crowd          {} people for {} seats, {} at a time, {:.0}% choosing on the map, holds of {} s, {} accounts",
        s.customers,
        s.seats,
        s.concurrency,
        s.map_share * 100.0,
        s.hold_secs,
        s.accounts
    );
    let _ = writeln!(
        o,
        "  answers            {:>9.0} /s           ({} in {:.1} s: {} held ({} seats), {} seats taken, {} sold out, {} errors)",
        s.answers_per_sec,
        s.answers,
        s.seconds,
        s.held,
        s.seats_held,
        s.seats_taken,
        s.sold_out,
        s.errors
    );
    for (what, n) in &s.error_kinds {
        let _ = writeln!(o, "    error: {what} ({n})");
    }
    row(o, "any answer", &s.answer);
    row(o, "held (202)", &s.answer_held);
    row(o, "refused (409)", &s.answer_refused);
    let _ = writeln!(o, "  placing line       {}", s.placing);
    if s.busy > 0 {
        row(o, "busy (503)", &s.answer_busy);
    }
    let _ = writeln!(
        o,
        "  told busy          {} times (each person waited the Retry-After and asked again)",
        s.busy
    );
    row(o, "first ask to answer", &s.person);
    let _ = writeln!(
        o,
        "  sold out           {}",
        s.sold_out_after_secs.map_or_else(
            || format!(
                "no: {} seats free, {} held at the end",
                s.seats_free, s.seats_still_held
            ),
            |t| format!("after {t:.1} s (every seat sold and paid)")
        )
    );
    let _ = writeln!(
        o,
        "  bookings           {} confirmed, {} declined ({} of their seats resold), {} expired holds ({} seats, {} resold)",
        s.confirmed,
        s.cancelled_declined,
        s.declined_seats_resold,
        s.expired,
        s.expired_seats,
        s.expired_seats_resold
    );
    let _ = writeln!(
        o,
        "  money              confirmed {} ¢ = sold seats {} ¢ = read model {} ¢; wallets spent {} ¢ = wallet bookings {} ¢",
        s.confirmed_cents,
        s.sold_seats_cents,
        s.read_model_net_cents,
        s.wallets_spent_cents,
        s.wallet_bookings_cents
    );
    let i = &s.invariants;
    let _ = writeln!(
        o,
        "  invariants         {}: no seat sold twice {}, sold seats = confirmed bookings {}, every booking settled {}, money adds up {}",
        if i.hold() { "hold" } else { "BROKEN" },
        yes(i.no_seat_sold_twice),
        yes(i.sold_seats_match_bookings),
        yes(i.every_booking_settled),
        yes(i.money_adds_up)
    );
    for b in &i.broken {
        let _ = writeln!(o, "    broken: {b}");
    }
    if let Some(p) = &s.server {
        let _ = writeln!(
            o,
            "  server             peak RSS {:.1} MB, CPU {:.1} s",
            p.peak_rss_bytes as f64 / 1e6,
            p.cpu_seconds
        );
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}

fn row(o: &mut String, name: &str, l: &Latency) {
    let _ = writeln!(
        o,
        "  {name:<22} p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms  (n={})",
        l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms, l.count
    );
}

/// Samples as a line of block characters, scaled to the largest.
fn sparkline(samples: &[i64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = samples.iter().copied().max().unwrap_or(0).max(1);
    samples
        .iter()
        .map(|&v| BARS[usize::try_from(v.max(0) * 7 / max).unwrap_or(0).min(7)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_scales_to_its_largest_sample() {
        assert_eq!(sparkline(&[0, 7, 14]), "▁▄█");
        assert_eq!(sparkline(&[0, 0]), "▁▁");
        assert_eq!(sparkline(&[]), "");
    }
}
