//! The persisted and replied description of a model, and RedisAI's blob chunking rule.
//!
//! A model value keeps the original blob and the options it was stored with; the backend session
//! is derived from them, so RDB, AOF and AI.MODELGET never depend on the backend.

use std::ops::Range;
use std::sync::Arc;

use crate::backend::Backend;

/// The most warm-up runs one AI.MODELSTORE may ask for (`WARMUP <n>`).
pub const MAX_WARMUP: u64 = 1000;

/// Everything RedisAI persists about a model (RDB, AOF) and replies with in AI.MODELGET.
/// Names and the tag are bytes; the device string is kept exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRecord {
    /// Backend that runs the model.
    pub backend: Backend,
    /// Device string as given at store time (`CPU`, `gpu:1`, ...).
    pub device: String,
    /// Tag (empty when none was given).
    pub tag: Vec<u8>,
    /// Auto-batching: largest batch (0 = no batching).
    pub batchsize: u64,
    /// Auto-batching: smallest batch to wait for (0 = none).
    pub minbatchsize: u64,
    /// Auto-batching: how long to wait for MINBATCHSIZE, in milliseconds (0 = forever).
    pub minbatchtimeout: u64,
    /// Input names (TF: as given; other backends: as the backend reports them).
    pub inputs: Vec<Vec<u8>>,
    /// Output names (Torch: one empty name per output).
    pub outputs: Vec<Vec<u8>>,
    /// The model exactly as stored (all BLOB chunks joined): the one copy of its bytes, shared
    /// with the backend, which may keep building sessions from it while the model lives.
    pub blob: Arc<Vec<u8>>,
}

/// The byte ranges of `len` bytes cut in chunks of `chunk_size`, by RedisAI's rule (used for
/// MODELGET BLOB replies, RDB and AOF): `len / chunk_size + 1` chunks, all of `chunk_size` bytes
/// but the last, which has `len % chunk_size` bytes. So a length that is an exact multiple of the
/// chunk size (including 0) ends with an empty chunk. A `chunk_size` of 0 (never configured: the
/// configuration refuses it) yields a single chunk.
pub fn chunk_ranges(len: usize, chunk_size: usize) -> impl ExactSizeIterator<Item = Range<usize>> {
    let (chunk, n_chunks) = match chunk_size {
        0 => (len, 1),
        c => (c, len / c + 1),
    };
    (0..n_chunks).map(move |i| {
        let start = i * chunk;
        // The last chunk ends the blob: (n_chunks - 1) * chunk + len % chunk == len.
        let end = if i + 1 < n_chunks { start + chunk } else { len };
        start..end
    })
}

/// `blob` cut by [`chunk_ranges`].
pub fn chunks(blob: &[u8], chunk_size: usize) -> impl ExactSizeIterator<Item = &[u8]> {
    chunk_ranges(blob.len(), chunk_size).map(move |r| &blob[r])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lens(len: usize, chunk: usize) -> Vec<usize> {
        chunk_ranges(len, chunk).map(|r| r.len()).collect()
    }

    #[test]
    fn chunking_rule() {
        let table: &[(usize, usize, &[usize])] = &[
            (1352, 450, &[450, 450, 450, 2]), // SPEC §3.5 example (pt-minimal.pt)
            (150, 64, &[64, 64, 22]),         // golden MODELGET m_tf BLOB with chunk size 64
            (128, 64, &[64, 64, 0]),          // exact multiple: trailing empty chunk
            (64, 64, &[64, 0]),
            (63, 64, &[63]),
            (0, 64, &[0]),
            (10, 1, &[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]),
            (10, 0, &[10]),
            (0, 0, &[0]),
        ];
        for &(len, chunk, expected) in table {
            assert_eq!(lens(len, chunk), expected, "{len} / {chunk}");
            let ranges: Vec<_> = chunk_ranges(len, chunk).collect();
            assert_eq!(ranges.first().unwrap().start, 0);
            assert_eq!(ranges.last().unwrap().end, len);
            assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
        }
    }

    #[test]
    fn chunks_join_back() {
        let blob: Vec<u8> = (0..=255).collect();
        for size in [1, 7, 64, 255, 256, 1000] {
            let joined: Vec<u8> = chunks(&blob, size).flatten().copied().collect();
            assert_eq!(joined, blob);
            assert_eq!(chunks(&blob, size).len(), blob.len() / size + 1);
        }
    }
}
