package ipc.connect.internal.connection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ipc.connect.IpcClosedException;
import ipc.connect.IpcTimeoutException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The receiving buffer alone, in one thread: order, wrap-around, end, failure, credit, close. */
class InboundStreamTest {
    private final List<Integer> credits = new ArrayList<>();
    private int earlyCloses;

    private InboundStream stream(int maxBuffered, long timeoutNanos) {
        return new InboundStream(maxBuffered, timeoutNanos, () -> "test stream", () -> { }, () -> earlyCloses++,
                credits::add);
    }

    private static MemorySegment bytes(int from, int count) {
        byte[] array = new byte[count];
        for (int i = 0; i < count; i++) {
            array[i] = (byte) (from + i);
        }
        return MemorySegment.ofArray(array);
    }

    @Test
    void bytesComeOutInOrderAcrossWrapAroundThenEnd() throws IOException {
        InboundStream in = stream(64, 0);
        int next = 0;
        int expected = 0;
        for (int round = 0; round < 50; round++) {
            assertTrue(in.offer(bytes(next, 40), 0, 40));
            next += 40;
            assertEquals(expected & 0xFF, in.read());
            expected++;
            assertEquals(10, in.skip(10));
            expected += 10;
            byte[] rest = new byte[29];
            assertEquals(29, in.read(rest, 0, 29));
            assertArrayEquals(bytes(expected, 29).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), rest);
            expected += 29;
        }
        in.end();
        assertEquals(-1, in.read());
        assertEquals(0, in.skip(5));
        assertFalse(credits.isEmpty(), "credit returned every quarter of the buffer");
        // 2,000 bytes read, a multiple of the 16-byte quarter: every one of them returned as credit
        assertEquals(2000, credits.stream().mapToInt(Integer::intValue).sum());
    }

    @Test
    void aFullBufferRefusesUntilDrained() throws IOException {
        InboundStream in = stream(64, 0);
        assertTrue(in.offer(bytes(0, 60), 0, 60));
        assertFalse(in.offer(bytes(60, 10), 0, 10), "over the bound: left for later");
        assertEquals(40, in.skip(40));
        assertTrue(in.offer(bytes(60, 10), 0, 10));
    }

    @Test
    void aFailureComesAfterTheBufferedBytes() throws IOException {
        InboundStream in = stream(64, 0);
        in.offer(bytes(0, 3), 0, 3);
        IpcClosedException cause = new IpcClosedException("peer gone");
        in.fail(cause);
        assertEquals(3, in.read(new byte[10], 0, 10));
        IOException thrown = assertThrows(IpcClosedException.class, in::read);
        assertSame(cause, thrown.getCause(), "thrown in the reader's thread, caused by the recorded failure");
    }

    @Test
    void aReadWaitsAtMostItsTimeout() {
        InboundStream in = stream(64, 20_000_000L);
        IpcTimeoutException e = assertThrows(IpcTimeoutException.class, in::read);
        assertTrue(e.getMessage().contains("test stream") && e.getMessage().contains("20 ms"), e.getMessage());
    }

    @Test
    void closingEarlyRunsTheOwnersActionOnceAndDropsTheRest() throws IOException {
        InboundStream in = stream(64, 0);
        in.offer(bytes(0, 8), 0, 8);
        in.close();
        in.close();
        assertEquals(1, earlyCloses, "the owner stops (server: STOP) or cancels (client: CANCEL) the sender");
        assertEquals(List.of(), credits, "no credit: the sender is told to stop instead");
        assertTrue(in.offer(bytes(0, 8), 0, 8), "later chunks are taken and dropped");
        assertThrows(IOException.class, in::read);
    }
}
