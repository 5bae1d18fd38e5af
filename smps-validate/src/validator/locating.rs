//! Locating the pending findings of an input and capping them per document.

use super::unit::{Pending, Unit};
use crate::Format;
use crate::doc::{Target, format_pointer};
use crate::locate::{Found, Paths};
use crate::violation::{Severity, Violation};

/// Locates every pending finding, keeps at most `max_per_document` of them per document, and
/// turns those into [`Violation`]s; also returns how many findings each unit had left out.
///
/// All findings are located (one pass over the text), then sorted by document and position.
/// Where a document has more than the cap, its errors are kept before its warnings, each in
/// order of position; only the kept findings get their pointer strings built.
pub(super) fn locate_all(
    text: &str,
    format: Format,
    units: &[Unit],
    pending: Vec<Pending>,
    max_per_document: usize,
) -> (Vec<Violation>, Vec<usize>) {
    let mut omitted = vec![0usize; units.len()];
    if pending.is_empty() {
        return (Vec::new(), omitted);
    }
    let (found, paths): (Vec<Found>, Paths) = match format {
        Format::Json => {
            let targets: Vec<&Target> = pending.iter().map(|p| &p.target).collect();
            crate::json::locate(text, &targets)
        }
        #[cfg(feature = "yaml")]
        Format::Yaml => {
            let requests: Vec<crate::yaml::Request<'_>> = pending
                .iter()
                .map(|p| crate::yaml::Request {
                    doc: units[p.unit].document,
                    target: &p.target,
                })
                .collect();
            crate::yaml::locate(text, &requests)
        }
        #[cfg(not(feature = "yaml"))]
        Format::Yaml => (
            pending
                .iter()
                .map(|_| Found {
                    node: None,
                    location: None,
                    missing: usize::MAX,
                })
                .collect(),
            Paths::default(),
        ),
    };
    let document = |p: &Pending| units[p.unit].document;
    let mut order: Vec<usize> = (0..pending.len()).collect();
    order.sort_by_key(|&i| (document(&pending[i]), found[i].location, pending[i].rule));
    let mut keep = vec![true; pending.len()];
    for group in order.chunk_by(|&a, &b| document(&pending[a]) == document(&pending[b])) {
        if group.len() <= max_per_document {
            continue;
        }
        let is_error = |i: usize| pending[i].rule.severity() == Severity::Error;
        let errors = group.iter().filter(|&&i| is_error(i)).count();
        let mut errors_left = max_per_document;
        let mut warnings_left = max_per_document.saturating_sub(errors);
        for &i in group {
            let budget = if is_error(i) {
                &mut errors_left
            } else {
                &mut warnings_left
            };
            if *budget == 0 {
                keep[i] = false;
                omitted[pending[i].unit] += 1;
            } else {
                *budget -= 1;
            }
        }
    }
    // Rank of each kept finding in the output; the rest are dropped unbuilt.
    let mut rank = vec![usize::MAX; pending.len()];
    for (r, &i) in order.iter().filter(|&&i| keep[i]).enumerate() {
        rank[i] = r;
    }
    drop(order);
    let mut out: Vec<(usize, Violation)> = pending
        .into_iter()
        .zip(found)
        .enumerate()
        .filter(|(i, _)| keep[*i])
        .map(|(i, (p, f))| {
            let segs = &p.target.pointer.0;
            let mut written = f.node.map(|n| paths.written(n)).unwrap_or_default();
            let known = segs.len().saturating_sub(f.missing.min(segs.len()));
            written.truncate(known);
            written.extend(segs[known..].iter().cloned());
            let v = Violation {
                rule: p.rule,
                severity: p.rule.severity(),
                document: units[p.unit].document,
                instance_path: format_pointer(&written),
                canonical_path: p.target.pointer.to_string(),
                location: f.location,
                kind: p.kind.redacted(segs),
            };
            (rank[i], v)
        })
        .collect();
    out.sort_unstable_by_key(|(r, _)| *r);
    let out = out.into_iter().map(|(_, v)| v).collect();
    (out, omitted)
}
