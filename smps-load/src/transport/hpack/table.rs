//! The header tables of RFC 7541 section 2.3: the static table of Appendix A and the dynamic
//! table a decoder keeps per connection.

use std::collections::VecDeque;

/// The static table (RFC 7541 Appendix A): HPACK index `i` (1 to 61) is `STATIC_TABLE[i - 1]`.
pub(crate) const STATIC_TABLE: [(&[u8], &[u8]); 61] = [
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
];

/// What every entry adds to a table's size, or a field to a header list's, besides its name
/// and value (RFC 7541 4.1).
pub(crate) const ENTRY_OVERHEAD: usize = 32;

/// How a header field matches the static table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StaticMatch {
    /// Name and value match the entry with this HPACK index.
    Field(usize),
    /// Only the name matches; this is the first entry with that name.
    Name(usize),
}

/// Finds `name` (and `value`) in the static table, preferring an exact match.
pub(crate) fn find_static(name: &[u8], value: &[u8]) -> Option<StaticMatch> {
    let mut found = None;
    for (i, &(n, v)) in STATIC_TABLE.iter().enumerate() {
        if n == name {
            if v == value {
                return Some(StaticMatch::Field(i + 1));
            }
            found = found.or(Some(StaticMatch::Name(i + 1)));
        }
    }
    found
}

/// One dynamic table entry: name and value in one allocation.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The name followed by the value.
    bytes: Box<[u8]>,
    /// Where the name ends in `bytes`.
    name_len: usize,
}

impl Entry {
    /// Copies `name` and `value` into a new entry.
    pub(crate) fn new(name: &[u8], value: &[u8]) -> Self {
        let mut bytes = Vec::with_capacity(name.len() + value.len());
        bytes.extend_from_slice(name);
        bytes.extend_from_slice(value);
        Self {
            bytes: bytes.into_boxed_slice(),
            name_len: name.len(),
        }
    }

    /// The field's name and value.
    pub(crate) fn field(&self) -> (&[u8], &[u8]) {
        self.bytes.split_at(self.name_len)
    }

    /// The entry's size as RFC 7541 4.1 counts it.
    fn size(&self) -> usize {
        self.bytes.len() + ENTRY_OVERHEAD
    }
}

/// The dynamic table (RFC 7541 2.3.2 and 4): newest entry first, evicted from the oldest end
/// so that its size stays within its maximum size.
#[derive(Debug)]
pub(crate) struct DynamicTable {
    /// The entries, newest at the front.
    entries: VecDeque<Entry>,
    /// The sum of the entries' sizes.
    size: usize,
    /// The most `size` may reach (the last dynamic table size update, or the initial limit).
    max_size: usize,
}

impl DynamicTable {
    /// An empty table whose size may reach `max_size`.
    pub(crate) fn new(max_size: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            size: 0,
            max_size,
        }
    }

    /// The entry at `index`, counting from 0 for the newest (HPACK index `index + 62`).
    pub(crate) fn get(&self, index: usize) -> Option<(&[u8], &[u8])> {
        self.entries.get(index).map(Entry::field)
    }

    /// How many entries the table holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The table's size as RFC 7541 4.1 counts it.
    #[cfg(test)]
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Sets the maximum size, evicting the oldest entries until the table fits (RFC 7541 4.3).
    pub(crate) fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.evict_to(max_size);
    }

    /// Adds `entry` as the newest, after evicting the oldest entries to make room; an entry
    /// larger than the maximum size empties the table and is not added (RFC 7541 4.4).
    pub(crate) fn insert(&mut self, entry: Entry) {
        let needed = entry.size();
        if needed > self.max_size {
            self.entries.clear();
            self.size = 0;
            return;
        }
        self.evict_to(self.max_size - needed);
        self.size += needed;
        self.entries.push_front(entry);
    }

    /// Evicts the oldest entries until the size is at most `limit`.
    fn evict_to(&mut self, limit: usize) {
        while self.size > limit {
            let Some(oldest) = self.entries.pop_back() else {
                self.size = 0;
                break;
            };
            self.size -= oldest.size();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(table: &DynamicTable) -> Vec<(&[u8], &[u8])> {
        (0..table.len()).map(|i| table.get(i).unwrap()).collect()
    }

    #[test]
    fn static_table_indices_follow_appendix_a() {
        assert_eq!(STATIC_TABLE[0], (&b":authority"[..], &b""[..]));
        assert_eq!(STATIC_TABLE[1], (&b":method"[..], &b"GET"[..]));
        assert_eq!(STATIC_TABLE[7], (&b":status"[..], &b"200"[..]));
        assert_eq!(
            STATIC_TABLE[15],
            (&b"accept-encoding"[..], &b"gzip, deflate"[..])
        );
        assert_eq!(STATIC_TABLE[23].0, b"cache-control");
        assert_eq!(STATIC_TABLE[27].0, b"content-length");
        assert_eq!(STATIC_TABLE[30].0, b"content-type");
        assert_eq!(STATIC_TABLE[32].0, b"date");
        assert_eq!(STATIC_TABLE[45].0, b"location");
        assert_eq!(STATIC_TABLE[53].0, b"server");
        assert_eq!(STATIC_TABLE[54].0, b"set-cookie");
        assert_eq!(STATIC_TABLE[57].0, b"user-agent");
        assert_eq!(STATIC_TABLE[60].0, b"www-authenticate");
        assert!(STATIC_TABLE[16..].iter().all(|(_, v)| v.is_empty()));
    }

    #[test]
    fn find_static_prefers_the_exact_field_then_the_first_name() {
        assert_eq!(find_static(b":method", b"GET"), Some(StaticMatch::Field(2)));
        assert_eq!(
            find_static(b":method", b"POST"),
            Some(StaticMatch::Field(3))
        );
        assert_eq!(find_static(b":method", b"PUT"), Some(StaticMatch::Name(2)));
        assert_eq!(
            find_static(b":status", b"404"),
            Some(StaticMatch::Field(13))
        );
        assert_eq!(find_static(b":path", b"/x"), Some(StaticMatch::Name(4)));
        assert_eq!(
            find_static(b"user-agent", b"smps"),
            Some(StaticMatch::Name(58))
        );
        assert_eq!(find_static(b"te", b"trailers"), None);
    }

    #[test]
    fn inserting_evicts_the_oldest_entries_until_the_new_one_fits() {
        let mut table = DynamicTable::new(100);
        table.insert(Entry::new(b"a", b"1")); // 34
        table.insert(Entry::new(b"b", b"2")); // 34
        assert_eq!((table.len(), table.size()), (2, 68));
        table.insert(Entry::new(b"cc", b"33")); // 36: evicts "a"
        assert_eq!(
            fields(&table),
            [(&b"cc"[..], &b"33"[..]), (&b"b"[..], &b"2"[..])]
        );
        assert_eq!(table.size(), 70);
    }

    #[test]
    fn an_entry_exactly_the_maximum_size_fits_alone() {
        let mut table = DynamicTable::new(40);
        table.insert(Entry::new(b"a", b"1"));
        table.insert(Entry::new(b"abcd", b"1234"));
        assert_eq!(fields(&table), [(&b"abcd"[..], &b"1234"[..])]);
        assert_eq!(table.size(), 40);
    }

    #[test]
    fn an_entry_larger_than_the_maximum_size_empties_the_table() {
        let mut table = DynamicTable::new(40);
        table.insert(Entry::new(b"a", b"1"));
        table.insert(Entry::new(b"abcd", b"12345"));
        assert_eq!((table.len(), table.size()), (0, 0));
    }

    #[test]
    fn lowering_the_maximum_size_evicts_and_zero_empties() {
        let mut table = DynamicTable::new(4096);
        for i in 0..10u8 {
            table.insert(Entry::new(b"n", &[i]));
        }
        assert_eq!(table.size(), 340);
        table.set_max_size(100);
        assert_eq!(
            fields(&table),
            [(&b"n"[..], &[9][..]), (&b"n"[..], &[8][..])]
        );
        table.set_max_size(0);
        assert_eq!((table.len(), table.size()), (0, 0));
        table.insert(Entry::new(b"n", b"v"));
        assert_eq!(table.len(), 0);
    }
}
