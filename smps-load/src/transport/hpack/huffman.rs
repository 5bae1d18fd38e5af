//! The Huffman code of RFC 7541 Appendix B: a table-driven decoder and the encoder the tests
//! use.
//!
//! Decoding keeps the next bits of the input in a 64-bit buffer (most significant bit first).
//! The next [`PEEK_BITS`] bits index [`SHORT`], which gives symbol and length of every code up
//! to that length (the printable ASCII that header values are made of); a longer code is found
//! by searching the canonical code's per-length ranges ([`CANON`]). Both tables are built at
//! compile time from [`CODES`], and a compile-time check fails the build unless the code is
//! canonical and complete, which the search relies on.

/// `(code, length in bits)` of each symbol, indexed by symbol: octets 0 to 255, then EOS (256).
/// The code sits in the low `length` bits (RFC 7541 Appendix B).
pub(crate) const CODES: [(u32, u8); 257] = [
    (0x1ff8, 13),     //   0
    (0x7fffd8, 23),   //   1
    (0xfffffe2, 28),  //   2
    (0xfffffe3, 28),  //   3
    (0xfffffe4, 28),  //   4
    (0xfffffe5, 28),  //   5
    (0xfffffe6, 28),  //   6
    (0xfffffe7, 28),  //   7
    (0xfffffe8, 28),  //   8
    (0xffffea, 24),   //   9
    (0x3ffffffc, 30), //  10
    (0xfffffe9, 28),  //  11
    (0xfffffea, 28),  //  12
    (0x3ffffffd, 30), //  13
    (0xfffffeb, 28),  //  14
    (0xfffffec, 28),  //  15
    (0xfffffed, 28),  //  16
    (0xfffffee, 28),  //  17
    (0xfffffef, 28),  //  18
    (0xffffff0, 28),  //  19
    (0xffffff1, 28),  //  20
    (0xffffff2, 28),  //  21
    (0x3ffffffe, 30), //  22
    (0xffffff3, 28),  //  23
    (0xffffff4, 28),  //  24
    (0xffffff5, 28),  //  25
    (0xffffff6, 28),  //  26
    (0xffffff7, 28),  //  27
    (0xffffff8, 28),  //  28
    (0xffffff9, 28),  //  29
    (0xffffffa, 28),  //  30
    (0xffffffb, 28),  //  31
    (0x14, 6),        //  32 ' '
    (0x3f8, 10),      //  33 '!'
    (0x3f9, 10),      //  34 '"'
    (0xffa, 12),      //  35 '#'
    (0x1ff9, 13),     //  36 '$'
    (0x15, 6),        //  37 '%'
    (0xf8, 8),        //  38 '&'
    (0x7fa, 11),      //  39 "'"
    (0x3fa, 10),      //  40 '('
    (0x3fb, 10),      //  41 ')'
    (0xf9, 8),        //  42 '*'
    (0x7fb, 11),      //  43 '+'
    (0xfa, 8),        //  44 ','
    (0x16, 6),        //  45 '-'
    (0x17, 6),        //  46 '.'
    (0x18, 6),        //  47 '/'
    (0x0, 5),         //  48 '0'
    (0x1, 5),         //  49 '1'
    (0x2, 5),         //  50 '2'
    (0x19, 6),        //  51 '3'
    (0x1a, 6),        //  52 '4'
    (0x1b, 6),        //  53 '5'
    (0x1c, 6),        //  54 '6'
    (0x1d, 6),        //  55 '7'
    (0x1e, 6),        //  56 '8'
    (0x1f, 6),        //  57 '9'
    (0x5c, 7),        //  58 ':'
    (0xfb, 8),        //  59 ';'
    (0x7ffc, 15),     //  60 '<'
    (0x20, 6),        //  61 '='
    (0xffb, 12),      //  62 '>'
    (0x3fc, 10),      //  63 '?'
    (0x1ffa, 13),     //  64 '@'
    (0x21, 6),        //  65 'A'
    (0x5d, 7),        //  66 'B'
    (0x5e, 7),        //  67 'C'
    (0x5f, 7),        //  68 'D'
    (0x60, 7),        //  69 'E'
    (0x61, 7),        //  70 'F'
    (0x62, 7),        //  71 'G'
    (0x63, 7),        //  72 'H'
    (0x64, 7),        //  73 'I'
    (0x65, 7),        //  74 'J'
    (0x66, 7),        //  75 'K'
    (0x67, 7),        //  76 'L'
    (0x68, 7),        //  77 'M'
    (0x69, 7),        //  78 'N'
    (0x6a, 7),        //  79 'O'
    (0x6b, 7),        //  80 'P'
    (0x6c, 7),        //  81 'Q'
    (0x6d, 7),        //  82 'R'
    (0x6e, 7),        //  83 'S'
    (0x6f, 7),        //  84 'T'
    (0x70, 7),        //  85 'U'
    (0x71, 7),        //  86 'V'
    (0x72, 7),        //  87 'W'
    (0xfc, 8),        //  88 'X'
    (0x73, 7),        //  89 'Y'
    (0xfd, 8),        //  90 'Z'
    (0x1ffb, 13),     //  91 '['
    (0x7fff0, 19),    //  92 '\\'
    (0x1ffc, 13),     //  93 ']'
    (0x3ffc, 14),     //  94 '^'
    (0x22, 6),        //  95 '_'
    (0x7ffd, 15),     //  96 '`'
    (0x3, 5),         //  97 'a'
    (0x23, 6),        //  98 'b'
    (0x4, 5),         //  99 'c'
    (0x24, 6),        // 100 'd'
    (0x5, 5),         // 101 'e'
    (0x25, 6),        // 102 'f'
    (0x26, 6),        // 103 'g'
    (0x27, 6),        // 104 'h'
    (0x6, 5),         // 105 'i'
    (0x74, 7),        // 106 'j'
    (0x75, 7),        // 107 'k'
    (0x28, 6),        // 108 'l'
    (0x29, 6),        // 109 'm'
    (0x2a, 6),        // 110 'n'
    (0x7, 5),         // 111 'o'
    (0x2b, 6),        // 112 'p'
    (0x76, 7),        // 113 'q'
    (0x2c, 6),        // 114 'r'
    (0x8, 5),         // 115 's'
    (0x9, 5),         // 116 't'
    (0x2d, 6),        // 117 'u'
    (0x77, 7),        // 118 'v'
    (0x78, 7),        // 119 'w'
    (0x79, 7),        // 120 'x'
    (0x7a, 7),        // 121 'y'
    (0x7b, 7),        // 122 'z'
    (0x7ffe, 15),     // 123 '{'
    (0x7fc, 11),      // 124 '|'
    (0x3ffd, 14),     // 125 '}'
    (0x1ffd, 13),     // 126 '~'
    (0xffffffc, 28),  // 127
    (0xfffe6, 20),    // 128
    (0x3fffd2, 22),   // 129
    (0xfffe7, 20),    // 130
    (0xfffe8, 20),    // 131
    (0x3fffd3, 22),   // 132
    (0x3fffd4, 22),   // 133
    (0x3fffd5, 22),   // 134
    (0x7fffd9, 23),   // 135
    (0x3fffd6, 22),   // 136
    (0x7fffda, 23),   // 137
    (0x7fffdb, 23),   // 138
    (0x7fffdc, 23),   // 139
    (0x7fffdd, 23),   // 140
    (0x7fffde, 23),   // 141
    (0xffffeb, 24),   // 142
    (0x7fffdf, 23),   // 143
    (0xffffec, 24),   // 144
    (0xffffed, 24),   // 145
    (0x3fffd7, 22),   // 146
    (0x7fffe0, 23),   // 147
    (0xffffee, 24),   // 148
    (0x7fffe1, 23),   // 149
    (0x7fffe2, 23),   // 150
    (0x7fffe3, 23),   // 151
    (0x7fffe4, 23),   // 152
    (0x1fffdc, 21),   // 153
    (0x3fffd8, 22),   // 154
    (0x7fffe5, 23),   // 155
    (0x3fffd9, 22),   // 156
    (0x7fffe6, 23),   // 157
    (0x7fffe7, 23),   // 158
    (0xffffef, 24),   // 159
    (0x3fffda, 22),   // 160
    (0x1fffdd, 21),   // 161
    (0xfffe9, 20),    // 162
    (0x3fffdb, 22),   // 163
    (0x3fffdc, 22),   // 164
    (0x7fffe8, 23),   // 165
    (0x7fffe9, 23),   // 166
    (0x1fffde, 21),   // 167
    (0x7fffea, 23),   // 168
    (0x3fffdd, 22),   // 169
    (0x3fffde, 22),   // 170
    (0xfffff0, 24),   // 171
    (0x1fffdf, 21),   // 172
    (0x3fffdf, 22),   // 173
    (0x7fffeb, 23),   // 174
    (0x7fffec, 23),   // 175
    (0x1fffe0, 21),   // 176
    (0x1fffe1, 21),   // 177
    (0x3fffe0, 22),   // 178
    (0x1fffe2, 21),   // 179
    (0x7fffed, 23),   // 180
    (0x3fffe1, 22),   // 181
    (0x7fffee, 23),   // 182
    (0x7fffef, 23),   // 183
    (0xfffea, 20),    // 184
    (0x3fffe2, 22),   // 185
    (0x3fffe3, 22),   // 186
    (0x3fffe4, 22),   // 187
    (0x7ffff0, 23),   // 188
    (0x3fffe5, 22),   // 189
    (0x3fffe6, 22),   // 190
    (0x7ffff1, 23),   // 191
    (0x3ffffe0, 26),  // 192
    (0x3ffffe1, 26),  // 193
    (0xfffeb, 20),    // 194
    (0x7fff1, 19),    // 195
    (0x3fffe7, 22),   // 196
    (0x7ffff2, 23),   // 197
    (0x3fffe8, 22),   // 198
    (0x1ffffec, 25),  // 199
    (0x3ffffe2, 26),  // 200
    (0x3ffffe3, 26),  // 201
    (0x3ffffe4, 26),  // 202
    (0x7ffffde, 27),  // 203
    (0x7ffffdf, 27),  // 204
    (0x3ffffe5, 26),  // 205
    (0xfffff1, 24),   // 206
    (0x1ffffed, 25),  // 207
    (0x7fff2, 19),    // 208
    (0x1fffe3, 21),   // 209
    (0x3ffffe6, 26),  // 210
    (0x7ffffe0, 27),  // 211
    (0x7ffffe1, 27),  // 212
    (0x3ffffe7, 26),  // 213
    (0x7ffffe2, 27),  // 214
    (0xfffff2, 24),   // 215
    (0x1fffe4, 21),   // 216
    (0x1fffe5, 21),   // 217
    (0x3ffffe8, 26),  // 218
    (0x3ffffe9, 26),  // 219
    (0xffffffd, 28),  // 220
    (0x7ffffe3, 27),  // 221
    (0x7ffffe4, 27),  // 222
    (0x7ffffe5, 27),  // 223
    (0xfffec, 20),    // 224
    (0xfffff3, 24),   // 225
    (0xfffed, 20),    // 226
    (0x1fffe6, 21),   // 227
    (0x3fffe9, 22),   // 228
    (0x1fffe7, 21),   // 229
    (0x1fffe8, 21),   // 230
    (0x7ffff3, 23),   // 231
    (0x3fffea, 22),   // 232
    (0x3fffeb, 22),   // 233
    (0x1ffffee, 25),  // 234
    (0x1ffffef, 25),  // 235
    (0xfffff4, 24),   // 236
    (0xfffff5, 24),   // 237
    (0x3ffffea, 26),  // 238
    (0x7ffff4, 23),   // 239
    (0x3ffffeb, 26),  // 240
    (0x7ffffe6, 27),  // 241
    (0x3ffffec, 26),  // 242
    (0x3ffffed, 26),  // 243
    (0x7ffffe7, 27),  // 244
    (0x7ffffe8, 27),  // 245
    (0x7ffffe9, 27),  // 246
    (0x7ffffea, 27),  // 247
    (0x7ffffeb, 27),  // 248
    (0xffffffe, 28),  // 249
    (0x7ffffec, 27),  // 250
    (0x7ffffed, 27),  // 251
    (0x7ffffee, 27),  // 252
    (0x7ffffef, 27),  // 253
    (0x7fffff0, 27),  // 254
    (0x3ffffee, 26),  // 255
    (0x3fffffff, 30), // 256 EOS
];

/// The symbol that ends a string; it must never appear inside one (RFC 7541 5.2).
const EOS: u16 = 256;

/// The longest code (EOS and three control octets), in bits.
const MAX_CODE_LEN: u32 = 30;

/// How many leading bits [`SHORT`] is indexed by: every code up to this length (all printable
/// ASCII but 14 rare punctuation marks) decodes with one lookup; the table takes 2 KiB.
const PEEK_BITS: u32 = 10;

/// Why a Huffman-coded string could not be decoded (RFC 7541 5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HuffmanError {
    /// The EOS symbol appears in the string.
    #[error("end-of-string symbol inside a huffman-coded string")]
    Eos,
    /// More than 7 bits are left after the last symbol.
    #[error("huffman padding longer than 7 bits")]
    PaddingTooLong,
    /// The bits after the last symbol are not a prefix of EOS (all ones).
    #[error("huffman padding not all ones")]
    PaddingNotOnes,
}

/// For each value of the next [`PEEK_BITS`] bits: `length << 8 | symbol` of the code they begin
/// with, or 0 when that code is longer than [`PEEK_BITS`].
const SHORT: [u16; 1 << PEEK_BITS] = build_short();

/// Builds [`SHORT`]: each code of at most [`PEEK_BITS`] bits fills the entries of every bit
/// pattern it is a prefix of.
const fn build_short() -> [u16; 1 << PEEK_BITS] {
    let mut table = [0u16; 1 << PEEK_BITS];
    let mut symbol = 0;
    while symbol < CODES.len() {
        let (code, len) = CODES[symbol];
        let len = len as u32;
        if len <= PEEK_BITS {
            let free = PEEK_BITS - len;
            let start = (code << free) as usize;
            let mut i = 0;
            while i < 1 << free {
                table[start + i] = ((len as u16) << 8) | symbol as u16;
                i += 1;
            }
        }
        symbol += 1;
    }
    table
}

/// The canonical code by length: the codes of length `l` are the consecutive values
/// `first[l]..first[l] + count[l]`, standing for `symbols[offset[l]..offset[l] + count[l]]`.
struct Canonical {
    /// The first (smallest) code of each length.
    first: [u32; MAX_CODE_LEN as usize + 1],
    /// How many codes have each length.
    count: [u16; MAX_CODE_LEN as usize + 1],
    /// Where each length's symbols start in `symbols`.
    offset: [u16; MAX_CODE_LEN as usize + 1],
    /// All symbols ordered by code length, then by symbol.
    symbols: [u16; 257],
}

/// The canonical view of [`CODES`], for codes longer than [`PEEK_BITS`].
const CANON: Canonical = build_canonical();

/// Builds [`CANON`] and fails the build unless [`CODES`] is canonical (each length's codes
/// consecutive, in symbol order) and complete (every bit string starts with a code).
const fn build_canonical() -> Canonical {
    const LENGTHS: usize = MAX_CODE_LEN as usize + 1;
    let mut canon = Canonical {
        first: [0; LENGTHS],
        count: [0; LENGTHS],
        offset: [0; LENGTHS],
        symbols: [0; 257],
    };
    let mut next = 0;
    let mut kraft: u64 = 0;
    let mut len = 1;
    while len < LENGTHS {
        canon.offset[len] = next as u16;
        let mut symbol = 0;
        while symbol < CODES.len() {
            let (code, l) = CODES[symbol];
            if l as usize == len {
                let n = canon.count[len] as u32;
                if n == 0 {
                    canon.first[len] = code;
                }
                assert!(
                    code == canon.first[len] + n,
                    "huffman code is not canonical"
                );
                canon.count[len] += 1;
                canon.symbols[next] = symbol as u16;
                next += 1;
                kraft += 1 << (MAX_CODE_LEN as usize - len);
            }
            symbol += 1;
        }
        len += 1;
    }
    assert!(next == CODES.len(), "huffman code length out of range");
    assert!(kraft == 1 << MAX_CODE_LEN, "huffman code is not complete");
    canon
}

/// Symbol and length of the code longer than [`PEEK_BITS`] that `top` (the next
/// [`MAX_CODE_LEN`] bits) begins with.
fn long_code(top: u32) -> (u16, u32) {
    let mut len = PEEK_BITS + 1;
    while len <= MAX_CODE_LEN {
        let l = len as usize;
        let delta = (top >> (MAX_CODE_LEN - len)).wrapping_sub(CANON.first[l]);
        if delta < u32::from(CANON.count[l]) {
            return (
                CANON.symbols[usize::from(CANON.offset[l]) + delta as usize],
                len,
            );
        }
        len += 1;
    }
    // Unreachable: the code is complete (checked at compile time), so the all-ones string
    // matches EOS at the latest. Should it ever be reached, EOS makes it a decoding error.
    (EOS, MAX_CODE_LEN)
}

/// Appends the decoding of the Huffman-coded `src` to `out`.
///
/// Allocates only when `out` has less spare capacity than the longest possible result
/// (8/5 of `src`, the shortest code having 5 bits).
///
/// # Errors
///
/// [`HuffmanError`] when `src` contains EOS or its padding is not 0 to 7 one bits.
pub(crate) fn decode(src: &[u8], out: &mut Vec<u8>) -> Result<(), HuffmanError> {
    out.reserve(src.len() + src.len().div_ceil(5) * 3);
    // The next `count` bits of the input, most significant first. Bits below them are either
    // zero or the input's following bits, so OR-ing input in again at its place is harmless.
    let mut bits: u64 = 0;
    let mut count: u32 = 0;
    let mut pos = 0;
    loop {
        if count < MAX_CODE_LEN {
            if let Some(word) = src.get(pos..).and_then(<[u8]>::first_chunk::<8>) {
                // Eight octets at once; only the whole octets that fit are counted.
                bits |= u64::from_be_bytes(*word) >> count;
                let taken = (63 - count) / 8;
                pos += taken as usize;
                count += taken * 8;
            } else {
                while count <= 56 {
                    let Some(&octet) = src.get(pos) else { break };
                    bits |= u64::from(octet) << (56 - count);
                    pos += 1;
                    count += 8;
                }
            }
        }
        // Past this point `count < MAX_CODE_LEN` only at the end of the input, where the bits
        // below `count` are zero: a code longer than `count` means the padding is reached.
        let entry = SHORT[(bits >> (64 - PEEK_BITS)) as usize];
        let (symbol, len) = if entry != 0 {
            (entry & 0xff, u32::from(entry >> 8))
        } else {
            long_code((bits >> (64 - MAX_CODE_LEN)) as u32)
        };
        if len > count {
            break;
        }
        if symbol == EOS {
            return Err(HuffmanError::Eos);
        }
        out.push(symbol as u8);
        bits <<= len;
        count -= len;
    }
    if count > 7 {
        return Err(HuffmanError::PaddingTooLong);
    }
    let padding = !(u64::MAX >> count);
    if bits & padding != padding {
        return Err(HuffmanError::PaddingNotOnes);
    }
    Ok(())
}

/// Appends the Huffman coding of `src` to `out`, padded with ones to a whole octet.
#[cfg(test)]
pub(crate) fn encode(src: &[u8], out: &mut Vec<u8>) {
    let mut bits: u64 = 0;
    let mut count: u32 = 0;
    for &octet in src {
        let (code, len) = CODES[usize::from(octet)];
        bits = (bits << len) | u64::from(code);
        count += u32::from(len);
        while count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    if count > 0 {
        let pad = 8 - count;
        out.push(((bits << pad) | ((1 << pad) - 1)) as u8);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::transport::hpack::tests::hex;

    fn decoded(src: &[u8]) -> Result<Vec<u8>, HuffmanError> {
        let mut out = Vec::new();
        decode(src, &mut out).map(|()| out)
    }

    fn encoded(src: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode(src, &mut out);
        out
    }

    /// Packs `(code, len)` pieces MSB first and pads the last octet with `pad_bit`.
    fn pack(pieces: &[(u64, u32)], pad_bit: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let (mut bits, mut count) = (0u64, 0u32);
        for &(code, len) in pieces {
            for i in (0..len).rev() {
                bits = (bits << 1) | ((code >> i) & 1);
                count += 1;
                if count == 8 {
                    out.push(bits as u8);
                    (bits, count) = (0, 0);
                }
            }
        }
        while count != 0 && count < 8 {
            bits = (bits << 1) | pad_bit;
            count += 1;
        }
        if count == 8 {
            out.push(bits as u8);
        }
        out
    }

    #[test]
    fn rfc7541_appendix_c_strings_encode_and_decode() {
        let cases = [
            ("f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com"),
            ("a8eb 1064 9cbf", "no-cache"),
            ("25a8 49e9 5ba9 7d7f", "custom-key"),
            ("25a8 49e9 5bb8 e8b4 bf", "custom-value"),
            ("6402", "302"),
            ("640e ff", "307"),
            ("aec3 771a 4b", "private"),
            (
                "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff",
                "Mon, 21 Oct 2013 20:13:21 GMT",
            ),
            (
                "d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff",
                "Mon, 21 Oct 2013 20:13:22 GMT",
            ),
            (
                "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3",
                "https://www.example.com",
            ),
            ("9bd9 ab", "gzip"),
            (
                "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f \
                 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
                "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
            ),
        ];
        for (code, text) in cases {
            assert_eq!(
                decoded(&hex(code)).unwrap(),
                text.as_bytes(),
                "decoding {text}"
            );
            assert_eq!(encoded(text.as_bytes()), hex(code), "encoding {text}");
        }
    }

    #[test]
    fn every_symbol_round_trips_alone_and_together() {
        let all: Vec<u8> = (0..=255).collect();
        for &octet in &all {
            assert_eq!(
                decoded(&encoded(&[octet])).unwrap(),
                [octet],
                "octet {octet}"
            );
            assert_eq!(
                decoded(&encoded(&[octet, b'a', octet])).unwrap(),
                [octet, b'a', octet],
                "octet {octet} around a short code"
            );
        }
        assert_eq!(decoded(&encoded(&all)).unwrap(), all);
        let reversed: Vec<u8> = all.iter().rev().copied().collect();
        assert_eq!(decoded(&encoded(&reversed)).unwrap(), reversed);
    }

    #[test]
    fn the_short_table_and_the_canonical_search_agree_on_every_code() {
        for (symbol, &(code, len)) in CODES.iter().enumerate() {
            let len = u32::from(len);
            let top = code << (MAX_CODE_LEN - len);
            let entry = SHORT[(top >> (MAX_CODE_LEN - PEEK_BITS)) as usize];
            if len <= PEEK_BITS {
                assert_eq!(usize::from(entry & 0xff), symbol & 0xff, "symbol {symbol}");
                assert_eq!(u32::from(entry >> 8), len, "symbol {symbol}");
            } else {
                assert_eq!(entry, 0, "symbol {symbol}");
                assert_eq!(long_code(top), (symbol as u16, len), "symbol {symbol}");
            }
        }
    }

    #[test]
    fn the_empty_string_decodes_to_nothing() {
        assert_eq!(decoded(&[]).unwrap(), b"");
    }

    #[test]
    fn eos_in_the_string_is_an_error() {
        let (eos, eos_len) = CODES[usize::from(EOS)];
        let (a, a_len) = CODES[usize::from(b'a')];
        // EOS alone (30 ones, padded with ones), after a symbol, and before one.
        assert_eq!(decoded(&[0xff; 4]), Err(HuffmanError::Eos));
        let after = pack(&[(a.into(), a_len.into()), (eos.into(), eos_len.into())], 1);
        assert_eq!(decoded(&after), Err(HuffmanError::Eos));
        let before = pack(&[(eos.into(), eos_len.into()), (a.into(), a_len.into())], 1);
        assert_eq!(decoded(&before), Err(HuffmanError::Eos));
    }

    #[test]
    fn padding_longer_than_seven_bits_is_an_error() {
        let mut src = encoded(b"a");
        src.push(0xff);
        assert_eq!(decoded(&src), Err(HuffmanError::PaddingTooLong));
        // Eight ones are a prefix of EOS, but too long to be padding.
        assert_eq!(decoded(&[0xff]), Err(HuffmanError::PaddingTooLong));
        assert_eq!(decoded(&[0xfe]), Err(HuffmanError::PaddingTooLong));
    }

    #[test]
    fn padding_that_is_not_all_ones_is_an_error() {
        let (a, a_len) = CODES[usize::from(b'a')];
        assert_eq!(
            decoded(&pack(&[(a.into(), a_len.into())], 0)),
            Err(HuffmanError::PaddingNotOnes)
        );
        // '0' is 00000 (5 bits): 0b0000_0110 leaves "110" after it.
        assert_eq!(decoded(&[0b0000_0110]), Err(HuffmanError::PaddingNotOnes));
        assert_eq!(decoded(&[0b0000_0111]).unwrap(), b"0");
    }

    proptest! {
        #[test]
        fn random_strings_round_trip(src in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(decoded(&encoded(&src)).unwrap(), src);
        }

        #[test]
        fn random_ascii_round_trips(src in "[ -~]{0,120}") {
            prop_assert_eq!(decoded(&encoded(src.as_bytes())).unwrap(), src.as_bytes());
        }

        #[test]
        fn arbitrary_input_never_panics(src in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decoded(&src);
        }
    }
}
