package ipc.connect;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * Test data: byte {@code p} of a pattern stream is {@code BLOCK[p % BLOCK.length]}, a random block of a length that
 * is no power of two, so a lost, repeated or reordered frame shows as a mismatch.
 */
final class Pattern {
    static final byte[] BLOCK = new byte[1_048_573]; // prime

    static {
        new SplittableRandom(42).nextBytes(BLOCK);
    }

    private Pattern() {
    }

    /** The pattern bytes [position, position + length). */
    static byte[] bytes(long position, int length) {
        byte[] out = new byte[length];
        fill(out, 0, length, position);
        return out;
    }

    static void fill(byte[] out, int offset, int length, long position) {
        int done = 0;
        while (done < length) {
            int at = (int) ((position + done) % BLOCK.length);
            int n = Math.min(length - done, BLOCK.length - at);
            System.arraycopy(BLOCK, at, out, offset + done, n);
            done += n;
        }
    }

    /** A stream of {@code length} pattern bytes. */
    static InputStream stream(long length) {
        return new InputStream() {
            private long position;

            @Override
            public int read() {
                if (position >= length) {
                    return -1;
                }
                return BLOCK[(int) (position++ % BLOCK.length)] & 0xFF;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (position >= length) {
                    return -1;
                }
                int n = (int) Math.min(len, length - position);
                fill(b, off, n, position);
                position += n;
                return n;
            }
        };
    }

    /** A stream of {@code length} pattern bytes whose read at the end throws {@code failure} instead of ending. */
    static InputStream failingAtEnd(long length, java.util.function.Supplier<RuntimeException> failure) {
        InputStream pattern = stream(length);
        return new InputStream() {
            @Override
            public int read() throws IOException {
                return read(new byte[1], 0, 1);
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = pattern.read(b, off, len);
                if (n < 0) {
                    throw failure.get();
                }
                return n;
            }
        };
    }

    /** Writes {@code length} pattern bytes to {@code out}, {@code writeSize} bytes per write call. */
    static void write(java.io.OutputStream out, long length, int writeSize) throws IOException {
        byte[] chunk = new byte[writeSize];
        for (long position = 0; position < length; ) {
            int n = (int) Math.min(writeSize, length - position);
            fill(chunk, 0, n, position);
            if (n == 1) {
                out.write(chunk[0]);
            } else {
                out.write(chunk, 0, n);
            }
            position += n;
        }
    }

    /**
     * Reads {@code in} to its end through views of at most {@code maxView} bytes, checking every byte against the
     * pattern; returns the count.
     */
    static long verifyViews(IpcInputStream in, int maxView) throws IOException {
        long position = 0;
        byte[] expected = new byte[maxView];
        java.nio.ByteBuffer view;
        while ((view = in.readView(maxView)) != null) {
            int n = view.remaining();
            fill(expected, 0, n, position);
            int at = view.mismatch(java.nio.ByteBuffer.wrap(expected, 0, n));
            if (at >= 0) {
                throw new AssertionError("pattern mismatch at byte " + (position + at) + " of a view of " + n);
            }
            position += n;
        }
        return position;
    }

    /** Reads {@code in} to its end, checking every byte against the pattern; returns the count. */
    static long verify(InputStream in, byte[] buffer) throws IOException {
        long position = 0;
        byte[] expected = new byte[buffer.length];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            fill(expected, 0, n, position);
            if (!Arrays.equals(buffer, 0, n, expected, 0, n)) {
                int at = Arrays.mismatch(buffer, 0, n, expected, 0, n);
                throw new AssertionError("pattern mismatch at byte " + (position + at) + ": got " + buffer[at]
                        + ", expected " + expected[at]);
            }
            position += n;
        }
        return position;
    }

    /** CRC32C of the first {@code length} pattern bytes. */
    static long crc(long length) {
        CRC32C crc = new CRC32C();
        byte[] chunk = new byte[BLOCK.length];
        long position = 0;
        while (position < length) {
            int n = (int) Math.min(chunk.length, length - position);
            fill(chunk, 0, n, position);
            crc.update(chunk, 0, n);
            position += n;
        }
        return crc.getValue();
    }
}
