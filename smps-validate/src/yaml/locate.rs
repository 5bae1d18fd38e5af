//! Locating findings in YAML: [`locate`] replays the event stream and follows canonical
//! pointers to the positions saphyr gives every node and key.

use std::borrow::Cow;

use saphyr_parser::{Event, Marker, Parser};
use smps_model::spelling;

use crate::Location;
use crate::doc::Target;
use crate::locate::{Found, NodeId, Paths, Trie, found};

/// The 1-based line and column of a saphyr marker.
pub(super) fn location(m: &Marker) -> Location {
    Location::new(m.line(), m.col() + 1)
}

/// A request to the YAML locator: document `doc`, target `target`.
#[derive(Debug, Clone)]
pub(crate) struct Request<'a> {
    pub(crate) doc: usize,
    pub(crate) target: &'a Target,
}

/// An open collection during the replay, and the trie node it matched (if any target goes
/// through it).
enum LFrame {
    Seq {
        next: usize,
        node: Option<NodeId>,
    },
    Map {
        /// (written, trie child, key start) of the key whose value comes next.
        key: Option<(String, Option<NodeId>, Marker)>,
        node: Option<NodeId>,
    },
}

/// Resolves every request in one replay of the event stream.
///
/// Only the nodes some request's pointer goes through are followed (a trie of the pointers,
/// see [`crate::locate`]); a request is answered by the last node whose canonical path equals
/// its pointer, or else by the deepest node on its way (an alias, or a parent when the field
/// is absent). Linear in the text plus the requests.
pub(crate) fn locate(text: &str, requests: &[Request<'_>]) -> (Vec<Found>, Paths) {
    let mut trie: Trie<Location> = Trie::new(requests.iter().map(|r| (r.doc, r.target)));
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<LFrame> = Vec::new();
    let mut written: Vec<String> = Vec::new();
    // Depth (in `written`) of the user map the walk is in, whose keys stay as written.
    let mut raw_depth: Option<usize> = None;
    let mut doc: usize = 0;
    let mut in_doc = false;
    while let Some(Ok((event, span))) = parser.next_event() {
        let at = span.start;
        match event {
            Event::DocumentStart(_) => {
                in_doc = true;
                stack.clear();
                written.clear();
                raw_depth = None;
            }
            Event::DocumentEnd => {
                if in_doc {
                    doc += 1;
                }
                in_doc = false;
            }
            Event::Scalar(..)
            | Event::Alias(..)
            | Event::SequenceStart(..)
            | Event::MappingStart(..) => {
                // A key?
                if let Some(LFrame::Map {
                    key: slot @ None,
                    node,
                }) = stack.last_mut()
                {
                    let (raw_text, child) = match (&event, *node) {
                        (Event::Scalar(t, ..), Some(parent)) => {
                            let c = if raw_depth.is_some() {
                                Cow::Borrowed(t.as_ref())
                            } else {
                                spelling::canonical_key(t)
                            };
                            let child = trie.key_child(parent, &c);
                            let w = if child.is_some() {
                                t.to_string()
                            } else {
                                String::new()
                            };
                            (w, child)
                        }
                        _ => (String::new(), None),
                    };
                    *slot = Some((raw_text, child, at));
                    if matches!(event, Event::SequenceStart(..) | Event::MappingStart(..)) {
                        // Complex keys are rejected by the parser; keep the stack balanced.
                        stack.push(LFrame::Seq {
                            next: 0,
                            node: None,
                        });
                        written.push(String::new());
                    }
                    continue;
                }
                // A value: find its trie node and push its path segment.
                let (node, key_at) = match stack.last_mut() {
                    Some(LFrame::Seq { next, node }) => {
                        let i = *next;
                        *next += 1;
                        // An index is written as it is canonical: no segment to keep.
                        written.push(String::new());
                        (node.and_then(|n| trie.index_child(n, i)), None)
                    }
                    Some(LFrame::Map { key, .. }) => {
                        let (w, child, k_at) = key.take().unwrap_or((String::new(), None, at));
                        written.push(w);
                        (child, Some(location(&k_at)))
                    }
                    None => (trie.root(doc), None),
                };
                if let Some(n) = node {
                    let w = key_at.and(written.last()).map(String::as_str);
                    trie.visit(n, w, location(&at), key_at);
                }
                let user_map =
                    || raw_depth.is_none() && written.last().is_some_and(|w| is_user_map_key(w));
                match event {
                    Event::SequenceStart(..) => {
                        if user_map() {
                            raw_depth = Some(written.len());
                        }
                        stack.push(LFrame::Seq { next: 0, node });
                    }
                    Event::MappingStart(..) => {
                        if user_map() {
                            raw_depth = Some(written.len());
                        }
                        stack.push(LFrame::Map { key: None, node });
                    }
                    _ => {
                        written.pop();
                    }
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                if raw_depth == Some(written.len()) {
                    raw_depth = None;
                }
                written.pop();
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
    let found = requests
        .iter()
        .map(|r| found(trie.answer(r.doc, r.target), |l| l))
        .collect();
    (found, trie.into_paths())
}

/// Whether a key, as written, opens a user map (whose keys are data, not field names).
fn is_user_map_key(written: &str) -> bool {
    spelling::is_user_map(&spelling::canonical_key(written))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Pointer;

    fn req(doc: usize, segs: &[&str], at_key: bool) -> Target {
        let _ = doc;
        Target {
            pointer: Pointer(segs.iter().map(|s| (*s).to_owned()).collect()),
            at_key,
            root: None,
        }
    }

    #[test]
    fn locator_finds_values_keys_and_documents() {
        let text = "a: 1\n---\nlatencies_ms:\n  p99: bad\nclients:\n  - endpoint_url: x\n  - {protocol: 9}\nlabels:\n  my_key: v\n";
        let t1 = req(1, &["latenciesMs", "p99"], false);
        let t2 = req(1, &["clients", "1", "protocol"], false);
        let t3 = req(1, &["clients", "0", "endpointUrls"], true);
        let t4 = req(1, &["labels", "my_key"], true);
        let t5 = req(1, &["latenciesMs", "p50"], false);
        let reqs: Vec<Request<'_>> = [&t1, &t2, &t3, &t4, &t5]
            .into_iter()
            .map(|t| Request { doc: 1, target: t })
            .collect();
        let (f, paths) = locate(text, &reqs);
        let written = |i: usize| f[i].node.map(|n| paths.written(n)).unwrap_or_default();
        assert_eq!(f[0].location, Some(Location::new(4, 8)));
        assert_eq!(written(0), vec!["latencies_ms", "p99"]);
        assert_eq!(f[1].location, Some(Location::new(7, 16)));
        assert_eq!(f[2].location, Some(Location::new(6, 5)));
        assert_eq!(written(2), vec!["clients", "0", "endpoint_url"]);
        assert_eq!(f[3].location, Some(Location::new(9, 3)));
        assert_eq!(f[4].missing, 1);
        assert_eq!(f[4].location, Some(Location::new(4, 3)));
    }
}
