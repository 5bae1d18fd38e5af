//! What the locators share: a trie of the pointers to find, so one pass over the source answers
//! every finding, and a sweep that turns many byte offsets into lines and columns at once.
//!
//! Both keep locating linear in the size of the input plus the number of findings: the JSON
//! and YAML locators walk the source once, following only the branches some finding needs,
//! and record at each trie node the last source node that matched it. A finding is then
//! answered by the deepest node of its pointer that was seen (the node itself, or the closest
//! present ancestor when a field is absent).

use std::collections::HashMap;

use smps_model::Kind;

use crate::Location;
use crate::canon;
use crate::doc::{Found, Target};

/// Where a trie node was last seen: the segments as written, the node's position and, for a
/// mapping member, the position of its key.
#[derive(Debug, Clone)]
pub(crate) struct Visit<P> {
    pub(crate) written: Vec<String>,
    pub(crate) at: P,
    pub(crate) key_at: Option<P>,
}

#[derive(Debug)]
struct TrieNode<P> {
    /// Children by canonical segment.
    children: HashMap<String, usize>,
    /// Children whose segment is an array index, by index.
    indexed: HashMap<usize, usize>,
    /// The kind whose root aliases apply to the keys of this node's mapping.
    alias: Option<Kind>,
    visit: Option<Visit<P>>,
}

impl<P> TrieNode<P> {
    fn new() -> Self {
        TrieNode {
            children: HashMap::new(),
            indexed: HashMap::new(),
            alias: None,
            visit: None,
        }
    }
}

/// The pointers to find, per document, merged into one trie.
#[derive(Debug)]
pub(crate) struct Trie<P> {
    nodes: Vec<TrieNode<P>>,
    roots: HashMap<usize, usize>,
}

/// A trie node id.
pub(crate) type NodeId = usize;

impl<P: Copy> Trie<P> {
    /// A trie of `targets`, each in the document given with it.
    pub(crate) fn new<'t>(targets: impl IntoIterator<Item = (usize, &'t Target)>) -> Self {
        let mut trie = Trie {
            nodes: Vec::new(),
            roots: HashMap::new(),
        };
        for (doc, target) in targets {
            let mut node = match trie.roots.get(&doc) {
                Some(&n) => n,
                None => {
                    let n = trie.push();
                    trie.roots.insert(doc, n);
                    n
                }
            };
            for (depth, seg) in target.pointer.0.iter().enumerate() {
                if let Some((kind, d)) = target.root {
                    if d == depth && trie.nodes[node].alias.is_none() {
                        trie.nodes[node].alias = Some(kind);
                    }
                }
                node = match trie.nodes[node].children.get(seg.as_str()) {
                    Some(&n) => n,
                    None => {
                        let n = trie.push();
                        trie.nodes[node].children.insert(seg.clone(), n);
                        if let Ok(i) = seg.parse::<usize>() {
                            trie.nodes[node].indexed.entry(i).or_insert(n);
                        }
                        n
                    }
                };
            }
        }
        trie
    }

    fn push(&mut self) -> NodeId {
        self.nodes.push(TrieNode::new());
        self.nodes.len() - 1
    }

    /// The root of document `doc`, if any finding is in it.
    pub(crate) fn root(&self, doc: usize) -> Option<NodeId> {
        self.roots.get(&doc).copied()
    }

    /// Whether any pointer goes below `node`.
    pub(crate) fn has_children(&self, node: NodeId) -> bool {
        !self.nodes[node].children.is_empty()
    }

    /// The child of `node` for a mapping key whose canonical form is `key` (root aliases of
    /// the node's kind applied).
    pub(crate) fn key_child(&self, node: NodeId, key: &str) -> Option<NodeId> {
        let n = &self.nodes[node];
        if n.children.is_empty() {
            return None;
        }
        let key = n
            .alias
            .and_then(|kind| canon::root_alias(kind, key))
            .unwrap_or(key);
        n.children.get(key).copied()
    }

    /// The child of `node` for array element `index`.
    pub(crate) fn index_child(&self, node: NodeId, index: usize) -> Option<NodeId> {
        self.nodes[node].indexed.get(&index).copied()
    }

    /// The largest array index any pointer below `node` names.
    pub(crate) fn max_index(&self, node: NodeId) -> Option<usize> {
        self.nodes[node].indexed.keys().max().copied()
    }

    /// Records that `node` was seen (a later sighting replaces an earlier one).
    pub(crate) fn visit(&mut self, node: NodeId, visit: Visit<P>) {
        self.nodes[node].visit = Some(visit);
    }

    /// The answer for `target` in `doc`: the deepest node of its pointer that was seen.
    /// `None` when not even the document's root was seen.
    pub(crate) fn answer(&self, doc: usize, target: &Target) -> Option<(&Visit<P>, usize, P)> {
        let mut node = self.root(doc)?;
        let segs = &target.pointer.0;
        let mut best = self.nodes[node].visit.as_ref().map(|v| (v, 0));
        for (depth, seg) in segs.iter().enumerate() {
            let Some(&child) = self.nodes[node].children.get(seg.as_str()) else {
                break;
            };
            node = child;
            if let Some(v) = &self.nodes[node].visit {
                best = Some((v, depth + 1));
            }
        }
        let (visit, depth) = best?;
        let missing = segs.len() - depth;
        let at = match visit.key_at {
            Some(k) if missing == 0 && target.at_key => k,
            _ => visit.at,
        };
        Some((visit, missing, at))
    }
}

/// Locations of byte offsets into `text`, in one sweep over the text (offsets are clamped to
/// the text and moved back to a character boundary). Linear in the text plus `k log k` for
/// `k` offsets, however long the lines are.
pub(crate) fn locations(text: &str, offsets: &[usize]) -> Vec<Location> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_unstable_by_key(|&i| offsets[i]);
    let mut out = vec![Location::new(1, 1); offsets.len()];
    let (mut pos, mut line, mut column) = (0usize, 1usize, 1usize);
    for i in order {
        let mut target = offsets[i].min(text.len());
        while !text.is_char_boundary(target) {
            target -= 1;
        }
        let gap = &text[pos..target];
        match gap.rfind('\n') {
            Some(nl) => {
                line += gap.bytes().filter(|&b| b == b'\n').count();
                column = 1 + gap[nl + 1..].chars().count();
            }
            None => column += gap.chars().count(),
        }
        pos = target;
        out[i] = Location::new(line, column);
    }
    out
}

/// A [`Found`] from a trie answer.
pub(crate) fn found<P>(
    answer: Option<(&Visit<P>, usize, P)>,
    to_location: impl FnOnce(P) -> Location,
) -> Found {
    match answer {
        Some((visit, missing, at)) => Found {
            written: visit.written.clone(),
            location: Some(to_location(at)),
            missing,
        },
        None => Found {
            written: Vec::new(),
            location: None,
            missing: usize::MAX,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sweep_gives_the_same_locations_as_one_offset_at_a_time() {
        let text = "ab\ncdé\nf\n\n\u{1F600}x";
        let offsets: Vec<usize> = vec![99, 0, 8, 3, 7, 5, 13, 10, 6, 12];
        let got = locations(text, &offsets);
        for (o, l) in offsets.iter().zip(got) {
            assert_eq!(l, Location::of_offset(text, *o), "offset {o}");
        }
    }
}
