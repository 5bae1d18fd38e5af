//! HPACK (RFC 7541) for the HTTP/2 client: a response header block [`Decoder`] and
//! [`encode_field`], which builds a request's header block once per endpoint.
//!
//! The decoder hands each field to a callback as borrowed slices (from the block, the tables
//! or two reused scratch buffers for Huffman-coded strings), so a response costs no heap
//! allocation in steady state; only dynamic table insertions allocate. Huffman decoding is
//! table-driven ([`huffman`]). `table.rs` holds the static and dynamic tables.
//!
//! The encoder never uses the dynamic table (it sends no table size update and the peer's
//! table stays empty), so the request block is the same on every stream and connection.

mod huffman;
mod table;

use self::huffman::HuffmanError;
use self::table::{DynamicTable, ENTRY_OVERHEAD, Entry, STATIC_TABLE, StaticMatch};

/// Largest integer accepted in a header block; a longer encoding, or more than
/// [`MAX_INT_SHIFT`] / 7 + 1 continuation octets, is an error (RFC 7541 5.1 lets decoders
/// limit both).
const MAX_INT: u64 = u32::MAX as u64;

/// Shift of the last continuation octet accepted: 5 octets carry 35 bits, enough for
/// [`MAX_INT`] after any prefix.
const MAX_INT_SHIFT: u32 = 28;

/// Why a header block could not be decoded (a COMPRESSION_ERROR for the connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HpackError {
    /// The block ends inside an integer.
    #[error("header block ends inside an integer")]
    TruncatedInteger,
    /// An integer exceeds 2^32 - 1 or has more than 5 continuation octets.
    #[error("integer too large in header block")]
    IntegerOverflow,
    /// A string literal's length runs past the end of the block.
    #[error("string literal runs past the end of the header block")]
    TruncatedString,
    /// A field or name refers to index 0.
    #[error("header field index 0")]
    IndexZero,
    /// A field or name refers to an index past the static and dynamic tables.
    #[error("header field index {index} past the end of the tables")]
    IndexOutOfRange {
        /// The index found.
        index: usize,
    },
    /// A Huffman-coded string is invalid.
    #[error("invalid huffman-coded string literal")]
    Huffman(#[from] HuffmanError),
    /// A dynamic table size update asks for more than we advertised.
    #[error("dynamic table size update to {size} above the limit of {limit}")]
    TableSizeAboveLimit {
        /// The size asked for.
        size: usize,
        /// Our SETTINGS_HEADER_TABLE_SIZE.
        limit: usize,
    },
    /// A dynamic table size update follows a header field.
    #[error("dynamic table size update after a header field")]
    TableSizeUpdateNotAtStart,
    /// The decoded header list exceeds the size limit.
    #[error("header list larger than {limit} bytes")]
    HeaderListTooLarge {
        /// The limit (RFC 7541 sizes: name + value + 32 per field).
        limit: usize,
    },
}

/// Decodes the header blocks of one connection's responses (it keeps the dynamic table).
#[derive(Debug)]
pub(crate) struct Decoder {
    /// The dynamic table, shared by all blocks of the connection.
    table: DynamicTable,
    /// The SETTINGS_HEADER_TABLE_SIZE we advertise: size updates may not exceed it.
    max_table_size: usize,
    /// Most bytes of decoded header list (RFC 7541 sizes) accepted per block.
    max_list_size: usize,
    /// Reused output of Huffman-coded names.
    name_buf: Vec<u8>,
    /// Reused output of Huffman-coded values.
    value_buf: Vec<u8>,
}

impl Decoder {
    /// `max_table_size`: the SETTINGS_HEADER_TABLE_SIZE we advertise (4096 default);
    /// `max_list_size`: most bytes of decoded header list (RFC 7541 size: name+value+32 per
    /// field) accepted per block.
    pub(crate) fn new(max_table_size: usize, max_list_size: usize) -> Self {
        Self {
            table: DynamicTable::new(max_table_size),
            max_table_size,
            max_list_size,
            name_buf: Vec::new(),
            value_buf: Vec::new(),
        }
    }

    /// Decodes one complete header block (all HEADERS+CONTINUATION fragments concatenated),
    /// calling `field(name, value)` for every field in order. Pseudo-headers (":status") are
    /// passed like the others. The slices borrow from `block`, the tables or the decoder's
    /// scratch buffers.
    ///
    /// Work is bounded by the block's length plus `max_list_size`: the list size is checked
    /// before each field is passed on.
    ///
    /// # Errors
    ///
    /// [`HpackError`] for anything RFC 7541 calls a decoding error, or a header list above
    /// `max_list_size`. Fields before the error have been passed to `field`; after an error
    /// the dynamic table may differ from the peer's, so the connection must end
    /// (COMPRESSION_ERROR).
    pub(crate) fn decode(
        &mut self,
        block: &[u8],
        mut field: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), HpackError> {
        let mut pos = 0;
        let mut list_size = 0;
        let mut seen_field = false;
        while let Some(&first) = block.get(pos) {
            if first & 0x80 != 0 {
                // Indexed header field (6.1).
                let index = decode_int(block, &mut pos, 7)?;
                let (name, value) = lookup(&self.table, index)?;
                count_field(&mut list_size, self.max_list_size, name, value)?;
                field(name, value);
            } else if first & 0xe0 == 0x20 {
                // Dynamic table size update (6.3), only at the start of a block (4.2).
                if seen_field {
                    return Err(HpackError::TableSizeUpdateNotAtStart);
                }
                let size = decode_int(block, &mut pos, 5)?;
                if size > self.max_table_size {
                    return Err(HpackError::TableSizeAboveLimit {
                        size,
                        limit: self.max_table_size,
                    });
                }
                self.table.set_max_size(size);
                continue;
            } else {
                // Literal header field with incremental indexing (6.2.1, `01`), without
                // indexing (6.2.2, `0000`) or never indexed (6.2.3, `0001`).
                let indexing = first & 0x40 != 0;
                let (name, value) = read_literal(
                    block,
                    &mut pos,
                    if indexing { 6 } else { 4 },
                    &self.table,
                    &mut self.name_buf,
                    &mut self.value_buf,
                )?;
                count_field(&mut list_size, self.max_list_size, name, value)?;
                field(name, value);
                if indexing {
                    // Copied before inserting evicts anything `name` may point into (4.4).
                    let entry = Entry::new(name, value);
                    self.table.insert(entry);
                }
            }
            seen_field = true;
        }
        Ok(())
    }
}

/// Adds a field's size to the header list's and fails past `limit`.
fn count_field(
    list_size: &mut usize,
    limit: usize,
    name: &[u8],
    value: &[u8],
) -> Result<(), HpackError> {
    *list_size = list_size.saturating_add(name.len() + value.len() + ENTRY_OVERHEAD);
    if *list_size > limit {
        return Err(HpackError::HeaderListTooLarge { limit });
    }
    Ok(())
}

/// The field at HPACK `index`: 1 to 61 static, then the dynamic table, newest first.
fn lookup(table: &DynamicTable, index: usize) -> Result<(&[u8], &[u8]), HpackError> {
    match index {
        0 => Err(HpackError::IndexZero),
        _ => match STATIC_TABLE.get(index - 1) {
            Some(&field) => Ok(field),
            None => table
                .get(index - 1 - STATIC_TABLE.len())
                .ok_or(HpackError::IndexOutOfRange { index }),
        },
    }
}

/// Reads a literal field representation at `pos`: the name index (`prefix_bits` bits, 0 for
/// a literal name), the name if literal, and the value.
fn read_literal<'a>(
    block: &'a [u8],
    pos: &mut usize,
    prefix_bits: u32,
    table: &'a DynamicTable,
    name_buf: &'a mut Vec<u8>,
    value_buf: &'a mut Vec<u8>,
) -> Result<(&'a [u8], &'a [u8]), HpackError> {
    let index = decode_int(block, pos, prefix_bits)?;
    let name = match index {
        0 => read_string(block, pos, name_buf)?,
        _ => lookup(table, index)?.0,
    };
    let value = read_string(block, pos, value_buf)?;
    Ok((name, value))
}

/// Reads a string literal at `pos` (5.2): the raw octets from `block`, or the decoding of
/// Huffman-coded octets, written over `scratch`.
fn read_string<'a>(
    block: &'a [u8],
    pos: &mut usize,
    scratch: &'a mut Vec<u8>,
) -> Result<&'a [u8], HpackError> {
    let huffman = block.get(*pos).is_some_and(|&octet| octet & 0x80 != 0);
    let len = decode_int(block, pos, 7)?;
    let raw = block
        .get(*pos..)
        .and_then(|rest| rest.get(..len))
        .ok_or(HpackError::TruncatedString)?;
    *pos += len;
    if !huffman {
        return Ok(raw);
    }
    scratch.clear();
    huffman::decode(raw, scratch)?;
    Ok(scratch)
}

/// Reads an integer with a `prefix_bits`-bit prefix (1 to 8) at `pos` (RFC 7541 5.1),
/// moving `pos` past it.
fn decode_int(block: &[u8], pos: &mut usize, prefix_bits: u32) -> Result<usize, HpackError> {
    let max_prefix = (1u64 << prefix_bits) - 1;
    let first = block.get(*pos).ok_or(HpackError::TruncatedInteger)?;
    *pos += 1;
    let mut value = u64::from(*first) & max_prefix;
    if value < max_prefix {
        return usize::try_from(value).map_err(|_| HpackError::IntegerOverflow);
    }
    let mut shift = 0;
    loop {
        let octet = block.get(*pos).ok_or(HpackError::TruncatedInteger)?;
        *pos += 1;
        value += u64::from(octet & 0x7f) << shift;
        if octet & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > MAX_INT_SHIFT {
            return Err(HpackError::IntegerOverflow);
        }
    }
    if value > MAX_INT {
        return Err(HpackError::IntegerOverflow);
    }
    usize::try_from(value).map_err(|_| HpackError::IntegerOverflow)
}

/// Appends `value` as an integer with a `prefix_bits`-bit prefix (1 to 8) to `out`, its first
/// octet OR-ed with `flags` (RFC 7541 5.1).
fn encode_int(out: &mut Vec<u8>, prefix_bits: u32, flags: u8, value: usize) {
    let max_prefix = (1usize << prefix_bits) - 1;
    if value < max_prefix {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max_prefix as u8);
    let mut rest = value - max_prefix;
    while rest >= 0x80 {
        out.push(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    out.push(rest as u8);
}

/// Appends `s` as a raw (not Huffman-coded) string literal.
fn encode_string(out: &mut Vec<u8>, s: &[u8]) {
    encode_int(out, 7, 0, s.len());
    out.extend_from_slice(s);
}

/// Appends one header field to a request header block as "literal header field without
/// indexing" (RFC 7541 6.2.2), using the static table's name index when the name is in the
/// static table (e.g. :method, :path, :scheme, :authority, content-type, user-agent...), raw
/// (non-Huffman) strings. If name and value match a static entry exactly (":method: GET",
/// ":scheme: http", ":path: /"), the 1-octet indexed representation (6.1) is used instead.
///
/// Used once per endpoint to pre-encode the whole request block, so simplicity beats size.
/// Names must already be lowercase (HTTP/2 requires it; `http::HeaderName` is).
pub(crate) fn encode_field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    match table::find_static(name, value) {
        Some(StaticMatch::Field(index)) => encode_int(out, 7, 0x80, index),
        Some(StaticMatch::Name(index)) => {
            encode_int(out, 4, 0x00, index);
            encode_string(out, value);
        }
        None => {
            out.push(0x00);
            encode_string(out, name);
            encode_string(out, value);
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Parses RFC-style hex ("8286 8441"), ignoring whitespace.
    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }

    type Fields = Vec<(String, String)>;

    fn text(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn fields(list: &[(&str, &str)]) -> Fields {
        list.iter()
            .map(|&(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    fn decode(decoder: &mut Decoder, block: &[u8]) -> Result<Fields, HpackError> {
        let mut out = Vec::new();
        decoder.decode(block, |n, v| out.push((text(n), text(v))))?;
        Ok(out)
    }

    /// The dynamic table, newest first, and its size.
    fn table(decoder: &Decoder) -> (Fields, usize) {
        let t = &decoder.table;
        let entries = (0..t.len())
            .map(|i| t.get(i).unwrap())
            .map(|(n, v)| (text(n), text(v)))
            .collect();
        (entries, t.size())
    }

    fn int(bytes: &[u8], prefix_bits: u32) -> Result<usize, HpackError> {
        let mut pos = 0;
        let value = decode_int(bytes, &mut pos, prefix_bits)?;
        assert_eq!(pos, bytes.len(), "integer not fully consumed");
        Ok(value)
    }

    #[test]
    fn c1_integer_examples_decode() {
        assert_eq!(int(&[0x0a], 5), Ok(10));
        assert_eq!(int(&[0xea], 5), Ok(10), "bits above the prefix are ignored");
        assert_eq!(int(&[0x1f, 0x9a, 0x0a], 5), Ok(1337));
        assert_eq!(int(&[0x2a], 8), Ok(42));
        let mut out = Vec::new();
        encode_int(&mut out, 5, 0, 1337);
        assert_eq!(out, [0x1f, 0x9a, 0x0a]);
    }

    #[test]
    fn the_largest_integer_decodes_for_every_prefix_and_one_more_overflows() {
        for prefix_bits in 1..=8 {
            let mut out = Vec::new();
            encode_int(&mut out, prefix_bits, 0, u32::MAX as usize);
            assert_eq!(
                int(&out, prefix_bits),
                Ok(u32::MAX as usize),
                "prefix {prefix_bits}"
            );
            out.clear();
            encode_int(&mut out, prefix_bits, 0, u32::MAX as usize + 1);
            assert_eq!(int(&out, prefix_bits), Err(HpackError::IntegerOverflow));
        }
        // The prefix value exactly: one continuation octet of 0.
        assert_eq!(int(&[0x1f, 0x00], 5), Ok(31));
    }

    #[test]
    fn too_many_continuation_octets_overflow_even_for_small_values() {
        assert_eq!(int(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x00], 5), Ok(31));
        assert_eq!(
            int(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 5),
            Err(HpackError::IntegerOverflow)
        );
        assert_eq!(
            int(&[0x1f, 0xff, 0xff, 0xff, 0xff, 0xff], 5),
            Err(HpackError::IntegerOverflow)
        );
    }

    #[test]
    fn truncated_integers_are_errors() {
        assert_eq!(int(&[], 5), Err(HpackError::TruncatedInteger));
        assert_eq!(int(&[0x1f], 5), Err(HpackError::TruncatedInteger));
        assert_eq!(int(&[0x1f, 0x9a], 5), Err(HpackError::TruncatedInteger));
        let mut d = Decoder::new(4096, 1 << 16);
        assert_eq!(decode(&mut d, &[0xff]), Err(HpackError::TruncatedInteger));
        assert_eq!(decode(&mut d, &[0x0f]), Err(HpackError::TruncatedInteger));
        assert_eq!(
            decode(&mut d, &[0x04]),
            Err(HpackError::TruncatedInteger),
            "no value"
        );
    }

    #[test]
    fn c2_field_representations() {
        let mut d = Decoder::new(4096, 1 << 16);
        let block = hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
        assert_eq!(
            decode(&mut d, &block),
            Ok(fields(&[("custom-key", "custom-header")]))
        );
        assert_eq!(table(&d), (fields(&[("custom-key", "custom-header")]), 55));

        let mut d = Decoder::new(4096, 1 << 16);
        let block = hex("040c 2f73 616d 706c 652f 7061 7468");
        assert_eq!(
            decode(&mut d, &block),
            Ok(fields(&[(":path", "/sample/path")]))
        );
        assert_eq!(table(&d), (vec![], 0));

        let mut d = Decoder::new(4096, 1 << 16);
        let block = hex("1008 7061 7373 776f 7264 0673 6563 7265 74");
        assert_eq!(
            decode(&mut d, &block),
            Ok(fields(&[("password", "secret")]))
        );
        assert_eq!(table(&d), (vec![], 0));

        let mut d = Decoder::new(4096, 1 << 16);
        assert_eq!(
            decode(&mut d, &hex("82")),
            Ok(fields(&[(":method", "GET")]))
        );
        assert_eq!(table(&d), (vec![], 0));
    }

    /// C.3 and C.4: three requests on one connection, table size 4096.
    fn check_requests(blocks: [&str; 3]) {
        let mut d = Decoder::new(4096, 1 << 16);
        let first = [(":method", "GET"), (":scheme", "http"), (":path", "/")];
        let authority = (":authority", "www.example.com");
        let cache = ("cache-control", "no-cache");
        let custom = ("custom-key", "custom-value");

        let mut want = first.to_vec();
        want.push(authority);
        assert_eq!(decode(&mut d, &hex(blocks[0])), Ok(fields(&want)));
        assert_eq!(table(&d), (fields(&[authority]), 57));

        want.push(cache);
        assert_eq!(decode(&mut d, &hex(blocks[1])), Ok(fields(&want)));
        assert_eq!(table(&d), (fields(&[cache, authority]), 110));

        let want = [
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/index.html"),
            authority,
            custom,
        ];
        assert_eq!(decode(&mut d, &hex(blocks[2])), Ok(fields(&want)));
        assert_eq!(table(&d), (fields(&[custom, cache, authority]), 164));
    }

    #[test]
    fn c3_requests_without_huffman_share_the_dynamic_table() {
        check_requests([
            "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "8286 84be 5808 6e6f 2d63 6163 6865",
            "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        ]);
    }

    #[test]
    fn c4_requests_with_huffman_share_the_dynamic_table() {
        check_requests([
            "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            "8286 84be 5886 a8eb 1064 9cbf",
            "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        ]);
    }

    /// C.5 and C.6: three responses on one connection, table size 256, with evictions.
    fn check_responses(blocks: [&str; 3]) {
        let mut d = Decoder::new(256, 1 << 16);
        let cache = ("cache-control", "private");
        let date1 = ("date", "Mon, 21 Oct 2013 20:13:21 GMT");
        let date2 = ("date", "Mon, 21 Oct 2013 20:13:22 GMT");
        let location = ("location", "https://www.example.com");
        let gzip = ("content-encoding", "gzip");
        let cookie = (
            "set-cookie",
            "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
        );

        let want = [(":status", "302"), cache, date1, location];
        assert_eq!(decode(&mut d, &hex(blocks[0])), Ok(fields(&want)));
        assert_eq!(
            table(&d),
            (fields(&[location, date1, cache, (":status", "302")]), 222)
        );

        let want = [(":status", "307"), cache, date1, location];
        assert_eq!(decode(&mut d, &hex(blocks[1])), Ok(fields(&want)));
        assert_eq!(
            table(&d),
            (fields(&[(":status", "307"), location, date1, cache]), 222)
        );

        let want = [(":status", "200"), cache, date2, location, gzip, cookie];
        assert_eq!(decode(&mut d, &hex(blocks[2])), Ok(fields(&want)));
        assert_eq!(table(&d), (fields(&[cookie, gzip, date2]), 215));
    }

    #[test]
    fn c5_responses_without_huffman_evict_from_a_256_byte_table() {
        check_responses([
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 \
             2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 \
             6c65 2e63 6f6d",
            "4803 3330 37c1 c0bf",
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d \
             54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 \
             5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e \
             3d31",
        ]);
    }

    #[test]
    fn c6_responses_with_huffman_evict_from_a_256_byte_table() {
        check_responses([
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 \
             2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
            "4883 640e ffc1 c0bf",
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab \
             77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f \
             9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        ]);
    }

    #[test]
    fn index_zero_is_an_error() {
        let mut d = Decoder::new(4096, 1 << 16);
        assert_eq!(decode(&mut d, &[0x80]), Err(HpackError::IndexZero));
    }

    #[test]
    fn indices_past_the_tables_are_errors() {
        let mut d = Decoder::new(4096, 1 << 16);
        assert_eq!(
            decode(&mut d, &[0xbe]),
            Err(HpackError::IndexOutOfRange { index: 62 })
        );
        // A literal whose name index is past the tables.
        assert_eq!(
            decode(&mut d, &[0x7e, 0x01, b'v']),
            Err(HpackError::IndexOutOfRange { index: 62 })
        );
        assert_eq!(
            decode(&mut d, &[0x0f, 0x30, 0x01, b'v']),
            Err(HpackError::IndexOutOfRange { index: 63 })
        );
        // With one entry, 62 works and 63 does not.
        let mut d = Decoder::new(4096, 1 << 16);
        assert_eq!(
            decode(&mut d, &[0x40, 0x01, b'n', 0x01, b'v']),
            Ok(fields(&[("n", "v")]))
        );
        assert_eq!(decode(&mut d, &[0xbe]), Ok(fields(&[("n", "v")])));
        assert_eq!(
            decode(&mut d, &[0xbf]),
            Err(HpackError::IndexOutOfRange { index: 63 })
        );
    }

    #[test]
    fn table_size_updates_at_the_start_apply_up_to_the_limit() {
        let mut d = Decoder::new(4096, 1 << 16);
        decode(&mut d, &[0x40, 0x01, b'n', 0x01, b'v']).unwrap();
        // 4096 (31 + 4065), then 0 (empties the table), then 100, then a field.
        let block = [0x3f, 0xe1, 0x1f, 0x20, 0x3f, 0x45, 0x82];
        assert_eq!(decode(&mut d, &block), Ok(fields(&[(":method", "GET")])));
        assert_eq!(table(&d), (vec![], 0));
        assert_eq!(d.table.get(0), None);
        // The new maximum (100) applies: a 101-byte entry is not kept.
        let mut block = vec![0x40, 0x01, b'n', 0x44];
        block.extend_from_slice(&[b'v'; 68]);
        decode(&mut d, &block).unwrap();
        assert_eq!(table(&d), (vec![], 0));
    }

    #[test]
    fn a_table_size_update_above_the_limit_is_an_error() {
        let mut d = Decoder::new(4096, 1 << 16);
        assert_eq!(
            decode(&mut d, &[0x3f, 0xe2, 0x1f]),
            Err(HpackError::TableSizeAboveLimit {
                size: 4097,
                limit: 4096
            })
        );
        let mut d = Decoder::new(0, 1 << 16);
        assert_eq!(decode(&mut d, &[0x20]), Ok(vec![]));
        assert_eq!(
            decode(&mut d, &[0x21]),
            Err(HpackError::TableSizeAboveLimit { size: 1, limit: 0 })
        );
    }

    #[test]
    fn a_table_size_update_after_a_field_is_an_error() {
        let mut d = Decoder::new(4096, 1 << 16);
        assert_eq!(
            decode(&mut d, &[0x82, 0x20]),
            Err(HpackError::TableSizeUpdateNotAtStart)
        );
        // The next block may start with one again.
        assert_eq!(
            decode(&mut d, &[0x20, 0x82]),
            Ok(fields(&[(":method", "GET")]))
        );
    }

    #[test]
    fn the_header_list_limit_counts_name_value_and_32_per_field() {
        // ":method: GET" is 7 + 3 + 32 = 42 bytes.
        let mut d = Decoder::new(4096, 84);
        assert_eq!(decode(&mut d, &[0x82, 0x82]).map(|f| f.len()), Ok(2));
        let mut d = Decoder::new(4096, 83);
        let mut passed = 0;
        let result = d.decode(&[0x82, 0x82], |_, _| passed += 1);
        assert_eq!(result, Err(HpackError::HeaderListTooLarge { limit: 83 }));
        assert_eq!(passed, 1, "the field over the limit is not passed on");
        // The limit is per block.
        let mut d = Decoder::new(4096, 42);
        assert_eq!(decode(&mut d, &[0x82]).map(|f| f.len()), Ok(1));
        assert_eq!(decode(&mut d, &[0x82]).map(|f| f.len()), Ok(1));
    }

    #[test]
    fn a_hostile_block_repeating_a_large_entry_stops_at_the_list_limit() {
        let mut d = Decoder::new(4096, 16 * 1024);
        let mut block = vec![0x40, 0x01, b'n', 0x7f, 0xe1, 0x1d]; // value of 127 + 3809 = 3936
        block.extend_from_slice(&[b'v'; 3936]);
        block.extend_from_slice(&[0xbe; 10_000]);
        let mut passed = 0;
        let result = d.decode(&block, |_, _| passed += 1);
        assert_eq!(
            result,
            Err(HpackError::HeaderListTooLarge { limit: 16 * 1024 })
        );
        assert_eq!(passed, 4);
    }

    #[test]
    fn a_string_longer_than_the_block_is_an_error() {
        let mut d = Decoder::new(4096, 1 << 16);
        assert_eq!(
            decode(&mut d, &[0x04, 0x0c, b'/', b'a']),
            Err(HpackError::TruncatedString)
        );
        assert_eq!(
            decode(&mut d, &[0x00, 0x85, 0x01]),
            Err(HpackError::TruncatedString)
        );
        assert_eq!(
            decode(&mut d, &[0x04, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x07]),
            Err(HpackError::TruncatedString)
        );
    }

    #[test]
    fn bad_huffman_strings_are_errors() {
        let mut d = Decoder::new(4096, 1 << 16);
        assert_eq!(
            decode(&mut d, &[0x04, 0x84, 0xff, 0xff, 0xff, 0xff]),
            Err(HpackError::Huffman(HuffmanError::Eos))
        );
        assert_eq!(
            decode(&mut d, &[0x04, 0x81, 0x18]),
            Err(HpackError::Huffman(HuffmanError::PaddingNotOnes))
        );
        assert_eq!(
            decode(&mut d, &[0x04, 0x82, 0x1f, 0xff]),
            Err(HpackError::Huffman(HuffmanError::PaddingTooLong))
        );
    }

    #[test]
    fn an_entry_larger_than_the_table_empties_it_but_is_still_passed_on() {
        let mut d = Decoder::new(64, 1 << 16);
        decode(&mut d, &[0x40, 0x01, b'n', 0x01, b'v']).unwrap();
        let mut block = vec![0x40, 0x01, b'n', 0x20];
        block.extend_from_slice(&[b'v'; 32]);
        let got = decode(&mut d, &block).unwrap();
        assert_eq!(got, fields(&[("n", &"v".repeat(32))]));
        assert_eq!(table(&d), (vec![], 0));
    }

    #[test]
    fn a_new_entry_may_take_its_name_from_the_entry_it_evicts() {
        // Room for one entry: the second insertion names index 62, which it evicts.
        let mut d = Decoder::new(60, 1 << 16);
        decode(&mut d, &[0x40, 0x04, b'n', b'a', b'm', b'e', 0x01, b'1']).unwrap();
        let got = decode(&mut d, &[0x7e, 0x02, b'2', b'2']).unwrap();
        assert_eq!(got, fields(&[("name", "22")]));
        assert_eq!(table(&d), (fields(&[("name", "22")]), 38));
    }

    #[test]
    fn literal_names_and_values_may_both_be_huffman_coded() {
        let mut block = vec![0x00];
        for s in [&b"x-trace-id"[..], b"0af7651916cd43dd8448eb211c80319c"] {
            let mut coded = Vec::new();
            huffman::encode(s, &mut coded);
            encode_int(&mut block, 7, 0x80, coded.len());
            block.extend_from_slice(&coded);
        }
        let mut d = Decoder::new(4096, 1 << 16);
        assert_eq!(
            decode(&mut d, &block),
            Ok(fields(&[(
                "x-trace-id",
                "0af7651916cd43dd8448eb211c80319c"
            )]))
        );
    }

    #[test]
    fn encode_field_uses_indexed_fields_and_static_names() {
        let mut out = Vec::new();
        encode_field(&mut out, b":method", b"GET");
        encode_field(&mut out, b":scheme", b"http");
        encode_field(&mut out, b":path", b"/x");
        assert_eq!(out, [0x82, 0x86, 0x04, 0x02, b'/', b'x']);
        out.clear();
        // user-agent is index 58: 15 + 43.
        encode_field(&mut out, b"user-agent", b"s");
        assert_eq!(out, [0x0f, 0x2b, 0x01, b's']);
        out.clear();
        encode_field(&mut out, b"te", b"trailers");
        assert_eq!(
            out,
            [
                0x00, 0x02, b't', b'e', 0x08, b't', b'r', b'a', b'i', b'l', b'e', b'r', b's'
            ]
        );
    }

    #[test]
    fn an_encoded_request_decodes_back_to_its_fields() {
        let want = fields(&[
            (":method", "POST"),
            (":scheme", "https"),
            (":authority", "example.com:8443"),
            (":path", "/"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("user-agent", "smps-load/0.1"),
            ("x-long", &"y".repeat(300)),
        ]);
        let mut block = Vec::new();
        for (n, v) in &want {
            encode_field(&mut block, n.as_bytes(), v.as_bytes());
        }
        let mut d = Decoder::new(4096, 1 << 16);
        assert_eq!(decode(&mut d, &block), Ok(want));
        assert_eq!(table(&d), (vec![], 0));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            blocks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..256), 1..4),
            max_table in 0usize..5000,
        ) {
            let mut d = Decoder::new(max_table, 8 * 1024);
            for block in &blocks {
                let _ = d.decode(block, |_, _| {});
            }
        }

        #[test]
        fn arbitrary_fields_round_trip_through_encode_field(
            list in proptest::collection::vec(
                (
                    prop_oneof![
                        Just(":method".to_owned()),
                        Just(":path".to_owned()),
                        Just("content-type".to_owned()),
                        "[a-z-]{1,20}",
                    ],
                    prop_oneof![Just("GET".to_owned()), Just("/".to_owned()), "[ -~]{0,200}"],
                ),
                0..12,
            ),
        ) {
            let mut block = Vec::new();
            for (n, v) in &list {
                encode_field(&mut block, n.as_bytes(), v.as_bytes());
            }
            let mut d = Decoder::new(4096, usize::MAX);
            prop_assert_eq!(decode(&mut d, &block), Ok(list));
        }

        #[test]
        fn integers_round_trip_for_every_prefix(value in 0..=u32::MAX as usize, prefix_bits in 1u32..=8) {
            let mut out = Vec::new();
            encode_int(&mut out, prefix_bits, 0, value);
            prop_assert_eq!(int(&out, prefix_bits), Ok(value));
        }
    }
}
