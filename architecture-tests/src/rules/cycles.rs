//! Cycles of a directed graph, each reported once (rotated to start at its smallest node), for
//! the crate-graph and module-graph rules.

use std::collections::{BTreeMap, BTreeSet};

/// Every elementary cycle reachable in `graph` (paths of at most 64 nodes), in a stable order.
pub(super) fn cycles<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    for start in graph.keys() {
        let mut path = vec![*start];
        walk(graph, &mut path, &mut seen, &mut found);
    }
    found
}

fn walk<'a>(
    graph: &BTreeMap<&'a str, Vec<&'a str>>,
    path: &mut Vec<&'a str>,
    seen: &mut BTreeSet<Vec<&'a str>>,
    found: &mut Vec<Vec<&'a str>>,
) {
    let Some(&last) = path.last() else { return };
    for &next in graph.get(last).map(Vec::as_slice).unwrap_or(&[]) {
        if let Some(pos) = path.iter().position(|p| *p == next) {
            let mut cycle: Vec<&str> = path[pos..].to_vec();
            let min = cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, n)| **n)
                .map_or(0, |(i, _)| i);
            cycle.rotate_left(min);
            if seen.insert(cycle.clone()) {
                found.push(cycle);
            }
        } else if path.len() < 64 {
            path.push(next);
            walk(graph, path, seen, found);
            path.pop();
        }
    }
}
