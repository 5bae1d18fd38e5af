//! What the locators share: a trie of the pointers to find, so one pass over the source answers
//! every finding, and a sweep that turns many byte offsets into lines and columns at once.
//!
//! Both keep locating linear in the size of the input plus the number of findings: the JSON
//! and YAML locators walk the source once, following only the branches some finding needs,
//! and record at each trie node the last source node that matched it. A finding is then
//! answered by the deepest node of its pointer that was seen (the node itself, or the closest
//! present ancestor when a field is absent).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

use smps_model::Kind;
use smps_model::spelling;

use crate::Location;
use crate::doc::Target;

/// Up to this many entries a [`SmallMap`] is a list searched in order.
const FEW: usize = 8;

/// A map that stays a short list while it is small (most trie nodes have one or two children,
/// and comparing a few keys is cheaper than hashing one) and becomes a hash map beyond
/// [`FEW`] entries, so lookups stay O(1) for nodes with many children.
#[derive(Debug)]
enum SmallMap<K> {
    Few(Vec<(K, NodeId)>),
    Many(HashMap<K, NodeId>),
}

impl<K: Hash + Eq> SmallMap<K> {
    fn new() -> Self {
        SmallMap::Few(Vec::new())
    }

    fn get<Q: ?Sized + Hash + Eq>(&self, key: &Q) -> Option<NodeId>
    where
        K: Borrow<Q>,
    {
        match self {
            SmallMap::Few(list) => list.iter().find(|(k, _)| k.borrow() == key).map(|e| e.1),
            SmallMap::Many(map) => map.get(key).copied(),
        }
    }

    /// Inserts a key that is not there yet.
    fn insert(&mut self, key: K, node: NodeId) {
        match self {
            SmallMap::Few(list) if list.len() < FEW => list.push((key, node)),
            SmallMap::Few(list) => {
                let mut map: HashMap<K, NodeId> = std::mem::take(list).into_iter().collect();
                map.insert(key, node);
                *self = SmallMap::Many(map);
            }
            SmallMap::Many(map) => {
                map.insert(key, node);
            }
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            SmallMap::Few(list) => list.is_empty(),
            SmallMap::Many(map) => map.is_empty(),
        }
    }

    fn keys(&self) -> Box<dyn Iterator<Item = &K> + '_> {
        match self {
            SmallMap::Few(list) => Box::new(list.iter().map(|(k, _)| k)),
            SmallMap::Many(map) => Box::new(map.keys()),
        }
    }
}

#[derive(Debug)]
struct TrieNode {
    parent: Option<NodeId>,
    /// The canonical segment that leads here (empty for a document's root).
    seg: String,
    /// The segment as written where the node was last seen, when it differs from `seg`.
    written: Option<String>,
    /// Children by canonical segment (array indices are in `indexed` instead).
    children: SmallMap<String>,
    /// Children whose segment is an array index, by index.
    indexed: SmallMap<usize>,
    /// The kind whose root aliases apply to the keys of this node's mapping.
    alias: Option<Kind>,
}

/// The pointers to find, per document, merged into one trie, and where each node was last
/// seen (`P`: a byte offset or a location).
#[derive(Debug)]
pub(crate) struct Trie<P> {
    nodes: Vec<TrieNode>,
    /// Per node: its position and, for a mapping member, its key's position.
    seen: Vec<Option<(P, Option<P>)>>,
    roots: SmallMap<usize>,
}

/// A trie node id.
pub(crate) type NodeId = usize;

/// The index a canonical segment names, when it is one (`"3"`, not `"03"` or `"+3"`).
fn as_index(seg: &str) -> Option<usize> {
    let b = seg.as_bytes();
    let canonical = match b {
        [] => false,
        [b'0'] => true,
        [first, ..] => *first != b'0' && b.iter().all(u8::is_ascii_digit),
    };
    if canonical { seg.parse().ok() } else { None }
}

impl<P: Copy> Trie<P> {
    /// A trie of `targets`, each in the document given with it.
    pub(crate) fn new<'t>(targets: impl IntoIterator<Item = (usize, &'t Target)>) -> Self {
        let mut trie = Trie {
            nodes: Vec::new(),
            seen: Vec::new(),
            roots: SmallMap::new(),
        };
        for (doc, target) in targets {
            let mut node = match trie.roots.get(&doc) {
                Some(n) => n,
                None => {
                    let n = trie.push(None, String::new());
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
                node = match trie.child(node, seg) {
                    Some(n) => n,
                    None => {
                        let n = trie.push(Some(node), seg.clone());
                        match as_index(seg) {
                            Some(i) => trie.nodes[node].indexed.insert(i, n),
                            None => trie.nodes[node].children.insert(seg.clone(), n),
                        };
                        n
                    }
                };
            }
        }
        trie
    }

    fn push(&mut self, parent: Option<NodeId>, seg: String) -> NodeId {
        self.nodes.push(TrieNode {
            parent,
            seg,
            written: None,
            children: SmallMap::new(),
            indexed: SmallMap::new(),
            alias: None,
        });
        self.seen.push(None);
        self.nodes.len() - 1
    }

    /// The child of `node` for canonical segment `seg`.
    fn child(&self, node: NodeId, seg: &str) -> Option<NodeId> {
        let n = &self.nodes[node];
        match as_index(seg) {
            Some(i) => n.indexed.get(&i),
            None => n.children.get(seg),
        }
    }

    /// The root of document `doc`, if any finding is in it.
    pub(crate) fn root(&self, doc: usize) -> Option<NodeId> {
        self.roots.get(&doc)
    }

    /// Whether any pointer goes below `node`.
    pub(crate) fn has_children(&self, node: NodeId) -> bool {
        let n = &self.nodes[node];
        !n.children.is_empty() || !n.indexed.is_empty()
    }

    /// The child of `node` for a mapping key whose canonical form is `key` (root aliases of
    /// the node's kind applied).
    pub(crate) fn key_child(&self, node: NodeId, key: &str) -> Option<NodeId> {
        if !self.has_children(node) {
            return None;
        }
        let key = self.nodes[node]
            .alias
            .and_then(|kind| spelling::root_alias(kind, key))
            .unwrap_or(key);
        self.child(node, key)
    }

    /// The child of `node` for array element `index`.
    pub(crate) fn index_child(&self, node: NodeId, index: usize) -> Option<NodeId> {
        self.nodes[node].indexed.get(&index)
    }

    /// The largest array index any pointer below `node` names.
    pub(crate) fn max_index(&self, node: NodeId) -> Option<usize> {
        self.nodes[node].indexed.keys().max().copied()
    }

    /// Records that `node` was seen at `at` (its key at `key_at`), its segment written as
    /// `written` (`None`: as the canonical segment, e.g. an array index); a later sighting
    /// replaces an earlier one.
    pub(crate) fn visit(&mut self, node: NodeId, written: Option<&str>, at: P, key_at: Option<P>) {
        let n = &mut self.nodes[node];
        match written {
            Some(w) if w != n.seg => {
                if n.written.as_deref() != Some(w) {
                    n.written = Some(w.to_owned());
                }
            }
            _ => n.written = None,
        }
        self.seen[node] = Some((at, key_at));
    }

    /// The answer for `target` in `doc`: the deepest node of its pointer that was seen, how
    /// many segments of the pointer lie below it, and the position to report. `None` when not
    /// even the document's root was seen.
    pub(crate) fn answer(&self, doc: usize, target: &Target) -> Option<(NodeId, usize, P)> {
        let mut node = self.root(doc)?;
        let segs = &target.pointer.0;
        let mut best = self.seen[node].map(|s| (node, 0, s));
        for (depth, seg) in segs.iter().enumerate() {
            let Some(child) = self.child(node, seg) else {
                break;
            };
            node = child;
            if let Some(s) = self.seen[node] {
                best = Some((node, depth + 1, s));
            }
        }
        let (node, depth, (at, key_at)) = best?;
        let missing = segs.len() - depth;
        let at = match key_at {
            Some(k) if missing == 0 && target.at_key => k,
            _ => at,
        };
        Some((node, missing, at))
    }

    /// The paths of the trie, without the positions.
    pub(crate) fn into_paths(self) -> Paths {
        Paths { nodes: self.nodes }
    }
}

/// The written segments of every trie node, to spell a finding's pointer as the user wrote it.
#[derive(Debug, Default)]
pub(crate) struct Paths {
    nodes: Vec<TrieNode>,
}

impl Paths {
    /// The segments from the document's root down to `node`, as written.
    pub(crate) fn written(&self, node: NodeId) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = Some(node);
        while let Some(n) = at.and_then(|i| self.nodes.get(i)) {
            if n.parent.is_some() {
                out.push(n.written.clone().unwrap_or_else(|| n.seg.clone()));
            }
            at = n.parent;
        }
        out.reverse();
        out
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

/// What a locator found for a target.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The deepest node of the target's pointer that was found (its segments as the user wrote
    /// them: [`Paths::written`]).
    pub(crate) node: Option<NodeId>,
    /// Where the value (or key) starts.
    pub(crate) location: Option<crate::Location>,
    /// How many trailing segments of the target were not found.
    pub(crate) missing: usize,
}

/// A [`Found`] from a trie answer.
pub(crate) fn found<P>(
    answer: Option<(NodeId, usize, P)>,
    to_location: impl FnOnce(P) -> Location,
) -> Found {
    match answer {
        Some((node, missing, at)) => Found {
            node: Some(node),
            location: Some(to_location(at)),
            missing,
        },
        None => Found {
            node: None,
            location: None,
            missing: usize::MAX,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_with_many_children_find_each_of_them() {
        use crate::doc::Pointer;
        let targets: Vec<Target> = (0..20)
            .flat_map(|i| {
                [format!("k{i}"), i.to_string()].map(|seg| Target {
                    pointer: Pointer(vec![seg]),
                    at_key: false,
                    root: None,
                })
            })
            .collect();
        let trie: Trie<usize> = Trie::new(targets.iter().map(|t| (0, t)));
        let root = trie.root(0).unwrap();
        for i in 0..20 {
            assert!(trie.key_child(root, &format!("k{i}")).is_some(), "k{i}");
            assert!(trie.index_child(root, i).is_some(), "{i}");
        }
        assert_eq!(trie.key_child(root, "k20"), None);
        assert_eq!(trie.max_index(root), Some(19));
        assert_eq!(as_index("07"), None);
        assert_eq!(as_index("0"), Some(0));
        assert_eq!(as_index("+1"), None);
    }

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
