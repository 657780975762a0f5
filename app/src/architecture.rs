//! The module canvas, live: `docs/architecture.json` is generated from the code by
//! architecture-tests (which fails when it drifts), embedded here, and rendered as Markdown with
//! a Mermaid graph (`boxoffice architecture`, `docs/architecture.md`), as an SVG graph and as the
//! `/admin/architecture` page.

use std::{collections::BTreeMap, fmt::Write as _};

use serde::{Deserialize, Serialize};

/// The committed canvas, as generated.
const CANVAS_JSON: &str = include_str!("../../docs/architecture.json");

/// The whole canvas.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct Canvas {
    pub(crate) kernel_tables: Vec<String>,
    pub(crate) modules: Vec<ModuleCanvas>,
}

/// One module.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct ModuleCanvas {
    pub(crate) name: String,
    pub(crate) database: String,
    pub(crate) schema: Vec<String>,
    pub(crate) facade: Vec<String>,
    pub(crate) publishes: Vec<String>,
    pub(crate) accepts: Vec<String>,
    pub(crate) sends: BTreeMap<String, Vec<String>>,
    pub(crate) consumes: BTreeMap<String, Vec<String>>,
    pub(crate) offers: Vec<String>,
    pub(crate) uses: BTreeMap<String, Vec<String>>,
    pub(crate) depends_on: Vec<String>,
}

/// An arrow of the graph.
#[derive(Clone, Debug)]
pub(crate) struct Edge {
    pub(crate) from: String,
    pub(crate) to: String,
    /// `events` (producer → consumer), `commands` (sender → the module that carries them out)
    /// or `calls` (caller → provider).
    pub(crate) kind: &'static str,
    pub(crate) label: String,
}

impl ModuleCanvas {
    /// Schema objects of one kind (`table`, `index`, …), by name.
    pub(crate) fn objects(&self, kind: &str) -> Vec<&str> {
        self.schema
            .iter()
            .filter_map(|o| o.strip_prefix(kind)?.strip_prefix(' '))
            .collect()
    }
}

impl Canvas {
    /// The embedded canvas.
    pub(crate) fn current() -> Canvas {
        // Generated and checked by a test, so it always parses; an empty canvas if it ever did not.
        serde_json::from_str(CANVAS_JSON).unwrap_or(Canvas {
            kernel_tables: Vec::new(),
            modules: Vec::new(),
        })
    }

    /// Event flows and calls between modules.
    pub(crate) fn edges(&self) -> Vec<Edge> {
        let mut edges = Vec::new();
        for m in &self.modules {
            for (producer, events) in &m.consumes {
                edges.push(Edge {
                    from: producer.clone(),
                    to: m.name.clone(),
                    kind: "events",
                    label: events.join(", "),
                });
            }
            for (api, commands) in &m.sends {
                edges.push(Edge {
                    from: m.name.clone(),
                    to: api.trim_end_matches("-api").to_owned(),
                    kind: "commands",
                    label: commands.join(", "),
                });
            }
            for (api, traits) in &m.uses {
                edges.push(Edge {
                    from: m.name.clone(),
                    to: api.trim_end_matches("-api").to_owned(),
                    kind: "calls",
                    label: traits.join(", "),
                });
            }
        }
        edges
    }

    /// The graph in Mermaid: databases as cylinders, events as solid arrows, commands thick, calls
    /// dotted.
    pub(crate) fn mermaid(&self) -> String {
        let mut o = String::from("graph LR\n");
        for m in &self.modules {
            let _ = writeln!(
                o,
                "    {0}[\"{0}\"] --- {0}_db[(\"{1}\")]",
                m.name, m.database
            );
        }
        for e in self.edges() {
            let arrow = match e.kind {
                "events" => "-->",
                "commands" => "==>",
                _ => "-.->",
            };
            let _ = writeln!(o, "    {} {arrow}|\"{}\"| {}", e.from, e.label, e.to);
        }
        o
    }

    /// The Markdown document (`docs/architecture.md`).
    pub(crate) fn markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# Module canvas\n");
        let _ = writeln!(
            o,
            "Generated from the code: `architecture-tests` reads the schemas, the `-api` crates and each \
             module's sources into `docs/architecture.json` (a test fails when it drifts), and \
             `boxoffice architecture` renders it as this page. Do not edit by hand; regenerate with\n\n\
             ```sh\nBOXOFFICE_BLESS=1 cargo test -p architecture-tests --test rules\n\
             cargo run --release -- architecture > docs/architecture.md\n```\n"
        );
        let _ = writeln!(
            o,
            "Solid arrows are integration events (producer to consumer, through the transactional \
             outbox); thick arrows are commands (sender to the module that carries them out, in \
             its own words, through the sender's outbox); dotted arrows are calls through an \
             `-api` trait (caller to provider). Every module owns one SQLite file and nothing \
             else.\n"
        );
        let _ = writeln!(o, "```mermaid\n{}```\n", self.mermaid());
        for m in &self.modules {
            let _ = writeln!(o, "## {}\n", m.name);
            let _ = writeln!(o, "| | |\n|---|---|");
            let _ = writeln!(o, "| Database | `{}` |", m.database);
            let _ = writeln!(o, "| Tables | {} |", code_list(&m.objects("table")));
            for (kind, label) in [
                ("view", "Views"),
                ("trigger", "Triggers"),
                ("index", "Indexes"),
            ] {
                let objects = m.objects(kind);
                if !objects.is_empty() {
                    let _ = writeln!(o, "| {label} | {} |", code_list(&objects));
                }
            }
            let _ = writeln!(o, "| Facade | {} |", code_list(&m.facade));
            let _ = writeln!(o, "| Publishes | {} |", code_list(&m.publishes));
            let _ = writeln!(o, "| Accepts | {} |", code_list(&m.accepts));
            let _ = writeln!(o, "| Sends | {} |", by_source(&m.sends, "to"));
            let _ = writeln!(o, "| Consumes | {} |", by_source(&m.consumes, "from"));
            let _ = writeln!(o, "| Offers | {} |", code_list(&m.offers));
            let _ = writeln!(o, "| Uses | {} |", by_source(&m.uses, "from"));
            let _ = writeln!(o, "| Depends on | {} |\n", code_list(&m.depends_on));
        }
        let _ = writeln!(o, "## kernel (in every module database)\n");
        let _ = writeln!(o, "{}", code_list(&self.kernel_tables));
        o
    }
}

fn code_list(items: &[impl AsRef<str>]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(|i| format!("`{}`", i.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn by_source(map: &BTreeMap<String, Vec<String>>, preposition: &str) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter()
        .map(|(source, items)| format!("{preposition} `{source}`: {}", code_list(items)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A node placed on the SVG graph.
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) x: i64,
    pub(crate) y: i64,
}

/// A line of the SVG graph, shortened to stop at the node boxes.
pub(crate) struct Line {
    pub(crate) x1: i64,
    pub(crate) y1: i64,
    pub(crate) x2: i64,
    pub(crate) y2: i64,
    /// `edge-event`, `edge-command` or `edge-call` (the stylesheet draws each its own way).
    pub(crate) class: &'static str,
    pub(crate) title: String,
}

/// The graph laid out on a circle: nodes, and one line per edge (bent apart when two modules talk
/// both ways).
pub(crate) fn layout(canvas: &Canvas, width: i64, height: i64) -> (Vec<Node>, Vec<Line>) {
    let n = canvas.modules.len().max(1) as f64;
    let (cx, cy) = (width as f64 / 2.0, height as f64 / 2.0);
    let (rx, ry) = (width as f64 / 2.0 - 90.0, height as f64 / 2.0 - 40.0);
    let nodes: Vec<Node> = canvas
        .modules
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let a = std::f64::consts::PI * (2.0 * i as f64 / n - 0.5);
            Node {
                name: m.name.clone(),
                x: (cx + rx * a.cos()).round() as i64,
                y: (cy + ry * a.sin()).round() as i64,
            }
        })
        .collect();
    let at = |name: &str| {
        nodes
            .iter()
            .find(|p| p.name == name)
            .map(|p| (p.x as f64, p.y as f64))
    };
    let edges = canvas.edges();
    let lines = edges
        .iter()
        .filter_map(|e| {
            let ((x1, y1), (x2, y2)) = (at(&e.from)?, at(&e.to)?);
            let (dx, dy) = (x2 - x1, y2 - y1);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            let (ux, uy) = (dx / len, dy / len);
            // Two arrows between the same pair run side by side instead of on top of each other.
            let both_ways = edges.iter().any(|o| o.from == e.to && o.to == e.from);
            let (ox, oy) = if both_ways {
                (-uy * 7.0, ux * 7.0)
            } else {
                (0.0, 0.0)
            };
            // Stop short of the 120×36 boxes.
            let trim =
                |ux: f64, uy: f64| (60.0 / ux.abs().max(1e-6)).min(18.0 / uy.abs().max(1e-6));
            let t = trim(ux, uy) + 4.0;
            Some(Line {
                x1: (x1 + ux * t + ox).round() as i64,
                y1: (y1 + uy * t + oy).round() as i64,
                x2: (x2 - ux * t + ox).round() as i64,
                y2: (y2 - uy * t + oy).round() as i64,
                class: match e.kind {
                    "calls" => "edge-call",
                    "commands" => "edge-command",
                    _ => "edge-event",
                },
                title: format!(
                    "{} {} {}: {}",
                    e.from,
                    match e.kind {
                        "calls" => "calls",
                        "commands" => "asks",
                        _ => "→",
                    },
                    e.to,
                    e.label
                ),
            })
        })
        .collect();
    (nodes, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_canvas_parses_and_names_every_module() {
        let c = Canvas::current();
        let names: Vec<&str> = c.modules.iter().map(|m| m.name.as_str()).collect();
        for m in ["users", "bookings", "payments", "reporting"] {
            assert!(names.contains(&m), "{m} missing from {names:?}");
        }
        // The saga's two halves: bookings asks payments in payments' words, payments answers
        // with events; nothing goes from payments to bookings but those events.
        let edges = c.edges();
        assert!(
            edges
                .iter()
                .any(|e| e.from == "bookings" && e.to == "payments" && e.kind == "commands")
        );
        assert!(
            !edges
                .iter()
                .any(|e| e.from == "bookings" && e.to == "payments" && e.kind == "events"),
            "payments consumes no bookings event"
        );
        assert!(
            edges
                .iter()
                .any(|e| e.from == "payments" && e.to == "bookings" && e.kind == "events")
        );
        assert!(
            edges
                .iter()
                .any(|e| e.from == "bookings" && e.to == "users" && e.kind == "calls")
        );
    }

    #[test]
    fn the_committed_markdown_is_the_rendering_of_the_canvas() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/architecture.md");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == Canvas::current().markdown(),
            "docs/architecture.md is out of date; regenerate it with \
             `cargo run --release -- architecture > docs/architecture.md`"
        );
    }

    #[test]
    fn lines_stop_short_of_the_boxes_they_join() {
        let (nodes, lines) = layout(&Canvas::current(), 720, 420);
        assert_eq!(nodes.len(), Canvas::current().modules.len());
        for l in &lines {
            let hits_a_box = nodes.iter().any(|n| {
                (l.x2 - n.x).abs() < 56 && (l.y2 - n.y).abs() < 14
                    || (l.x1 - n.x).abs() < 56 && (l.y1 - n.y).abs() < 14
            });
            assert!(!hits_a_box, "{} ends inside a box", l.title);
        }
    }
}
