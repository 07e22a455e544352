//! The `/tipx/sync/1` stream codec: one message per stream direction, a 4-byte big-endian
//! length and then the prost bytes. The length is checked against the protocol's message
//! limit before anything is read, and the body is read as it arrives (the buffer grows with
//! the bytes received, not with the length a peer declares), so a peer can neither make us
//! buffer more than [`MAX_FRAME_BYTES`] nor reserve memory with a length it never sends.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;

/// The protocol name.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/tipx/sync/1");

/// Largest message accepted or sent: the protocol's limit on any sync message (a page of at
/// most `MAX_PAGE_BYTES` of records plus framing).
pub const MAX_FRAME_BYTES: usize = tipx_protocol::sync::MAX_MESSAGE_BYTES;

/// Bytes reserved before a frame's body starts to arrive; the buffer grows from there.
const FIRST_READ: usize = 64 * 1024;

/// Frames raw message bytes; decoding them is the protocol crate's job.
#[derive(Debug, Clone, Copy, Default)]
pub struct Codec;

/// Reads one frame: the 4-byte big-endian length, then that many bytes. A length over
/// [`MAX_FRAME_BYTES`] is refused before the body is read, and a stream that ends early is
/// an `UnexpectedEof` error, not a short message. Public so that the `codec` fuzz target
/// can drive it; the node reads frames through [`Codec`].
pub async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message of {len} bytes exceeds the {MAX_FRAME_BYTES}-byte limit"),
        ));
    }
    let mut buf = Vec::with_capacity(len.min(FIRST_READ));
    io.take(len as u64).read_to_end(&mut buf).await?;
    if buf.len() < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("message ended after {} of its {len} bytes", buf.len()),
        ));
    }
    Ok(buf)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: Vec<u8>) -> io::Result<()> {
    if bytes.len() > MAX_FRAME_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "message too large to send",
        ));
    }
    io.write_all(&(bytes.len() as u32).to_be_bytes()).await?;
    io.write_all(&bytes).await?;
    io.close().await
}

impl libp2p::request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        read_frame(io).await
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        read_frame(io).await
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()> {
        write_frame(io, req).await
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()> {
        write_frame(io, res).await
    }
}

#[cfg(test)]
mod tests {
    use futures::io::Cursor;

    use super::*;

    fn frame(declared: u32, body: &[u8]) -> Cursor<Vec<u8>> {
        let mut bytes = declared.to_be_bytes().to_vec();
        bytes.extend_from_slice(body);
        Cursor::new(bytes)
    }

    #[test]
    fn a_frame_within_the_limit_is_read_whole() {
        let body = vec![7u8; 200_000];
        let mut io = frame(body.len() as u32, &body);
        let read = futures::executor::block_on(read_frame(&mut io)).unwrap();
        assert_eq!(read, body);
    }

    #[test]
    fn a_length_over_the_protocol_limit_is_refused_before_reading() {
        // 5 MiB: under the old 8 MiB frame limit, over the 4 MiB any message may have.
        let mut io = frame(5 << 20, b"");
        let e = futures::executor::block_on(read_frame(&mut io)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("exceeds"), "{e}");
    }

    #[test]
    fn a_length_that_is_never_sent_ends_in_an_error_not_a_wait_or_a_big_buffer() {
        let mut io = frame(MAX_FRAME_BYTES as u32, b"only this");
        let e = futures::executor::block_on(read_frame(&mut io)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        assert!(e.to_string().contains("ended after 9 of its"), "{e}");
    }

    #[test]
    fn nothing_over_the_limit_is_sent() {
        let mut out = Cursor::new(Vec::new());
        let e = futures::executor::block_on(write_frame(&mut out, vec![0; MAX_FRAME_BYTES + 1]))
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
