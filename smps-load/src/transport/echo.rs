//! Echo payloads shared by the TCP and UDP transports: every request carries bytes no other
//! request of the run carries, so an echo is checked byte for byte against what was sent.
//!
//! Layout: bytes 0..8 hold the slot's id and 8..16 the request's sequence number on the slot
//! (both little-endian); the rest is a pattern derived from both, so a server that echoes a
//! stale or foreign payload, or corrupts any byte, is caught.

/// Smallest payload: the slot id and the sequence number.
pub(crate) const MIN_PAYLOAD: usize = 16;

/// Writes the payload of request `seq` of slot `id` into `buf` (whose length is the
/// payload size, at least [`MIN_PAYLOAD`]).
pub(crate) fn fill(buf: &mut [u8], id: u64, seq: u64) {
    buf[..8].copy_from_slice(&id.to_le_bytes());
    buf[8..16].copy_from_slice(&seq.to_le_bytes());
    let mut x = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ id;
    for b in &mut buf[16..] {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *b = (x >> 56) as u8;
    }
}

/// The slot id and sequence number a payload claims to carry (`None` when too short).
pub(crate) fn header(buf: &[u8]) -> Option<(u64, u64)> {
    let id = u64::from_le_bytes(buf.get(..8)?.try_into().ok()?);
    let seq = u64::from_le_bytes(buf.get(8..16)?.try_into().ok()?);
    Some((id, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_differ_per_request_and_slot_and_carry_their_header() {
        let mut a = vec![0u8; 40];
        let mut b = vec![0u8; 40];
        fill(&mut a, 1, 7);
        fill(&mut b, 1, 8);
        assert_ne!(a, b);
        assert_ne!(a[16..], b[16..]);
        fill(&mut b, 2, 7);
        assert_ne!(a, b);
        assert_eq!(header(&a), Some((1, 7)));
        assert_eq!(header(&a[..10]), None);
        let mut again = vec![0u8; 40];
        fill(&mut again, 1, 7);
        assert_eq!(a, again);
    }
}
