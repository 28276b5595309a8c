package bison

import (
	"bytes"
	"io"
)

// maxPooledBody keeps an odd large body from pinning its memory in the pool.
const maxPooledBody = 256 << 10

// getBody takes a response buffer from the client's pool: a sync fetches thousands of pages
// of a few kilobytes each, and a buffer that has grown to a page's size is worth keeping.
func (c *Client) getBody() *bytes.Buffer {
	if b, ok := c.bodies.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

// releaseBody gives a buffer back to the pool. The caller must hold no reference into it:
// decoded pages copy what they keep.
func (c *Client) releaseBody(b *bytes.Buffer) {
	if b == nil || b.Cap() > maxPooledBody {
		return
	}
	c.bodies.Put(b)
}

// readBody reads a whole body of at most limit bytes into a pooled buffer. A page of 15
// accounts is a few kilobytes; anything near the bound is not a page. A larger body gives
// errTooLarge and a buffer with its first bytes, for an excerpt.
func (c *Client) readBody(r io.Reader, limit int64) (*bytes.Buffer, error) {
	buf := c.getBody()
	_, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if int64(buf.Len()) > limit {
		head := bytes.NewBuffer(append([]byte(nil), buf.Bytes()[:512]...))
		c.releaseBody(buf)
		return head, errTooLarge
	}
	return buf, err
}
