package ipc.connect.internal.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ipc.connect.IpcTimeoutException;
import ipc.connect.internal.ring.OneToOneRing;
import ipc.connect.internal.ring.RingDescriptor;
import ipc.connect.internal.signal.Signal;
import ipc.connect.internal.signal.SignalDescriptor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The writing end of a ring, in one process: a writer that finds the ring full polls for room a moment, then parks
 * until the process's poller sees the consumer move ({@link FrameWriter#wakeIfRoom}); no frame is lost or mixed up
 * either way, and a writer nobody makes room for gives up at its stall timeout.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FrameWriterTest {
    private static final int CAPACITY = 64 * 1024;
    private static final long NO_LIMIT = 0;
    private static final Outgoing BODY = new TestBody("test body", () -> false);

    private record Writing(Thread thread, CompletableFuture<Void> done) {
    }

    /** A writer and a consumer of one ring; after the ring, the consumer's signal and the body-bytes counter. */
    private record Ring(FrameWriter writer, OneToOneRing consumer) {
        static Ring create() {
            long ringLength = RingDescriptor.ringLength(CAPACITY);
            MemorySegment memory = Arena.ofAuto().allocate(ringLength + SignalDescriptor.LENGTH + 8, 128);
            FrameWriter writer = new FrameWriter(new OneToOneRing(memory, 0, CAPACITY), new Signal(memory, ringLength),
                    ringLength + SignalDescriptor.LENGTH);
            return new Ring(writer, new OneToOneRing(memory, 0, CAPACITY));
        }

        /** Writes {@code frames} frames of {@code length} bytes on a thread of its own, each filled with its index. */
        Writing writeInBackground(int frames, int length) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            Thread thread = Thread.ofPlatform().daemon().name("frame-writer").start(() -> {
                try {
                    byte[] chunk = new byte[length];
                    for (int i = 0; i < frames; i++) {
                        Arrays.fill(chunk, (byte) i);
                        writer.write(FrameDescriptor.REQUEST, i, chunk, 0, length, NO_LIMIT, BODY);
                    }
                    done.complete(null);
                } catch (Throwable t) {
                    done.completeExceptionally(t);
                }
            });
            return new Writing(thread, done);
        }

        /**
         * Reads {@code frames} frames as the process's poller would (waking the writer once it has read), checking
         * each one's id and bytes; pauses {@code pauseNanos} before each read. Returns how many times the writer's
         * thread was seen parked before a read.
         */
        int readChecking(int frames, int length, long pauseNanos, Thread writerThread) {
            int seenParked = 0;
            int[] next = {0};
            while (next[0] < frames) {
                if (pauseNanos > 0) {
                    LockSupport.parkNanos(pauseNanos);
                }
                if (writerThread != null && writerThread.getState() == Thread.State.TIMED_WAITING) {
                    seenParked++;
                }
                int read = consumer.read((kind, buffer, offset, frameLength) -> {
                    int i = next[0]++;
                    assertEquals(FrameDescriptor.REQUEST, kind, "frame " + i);
                    assertEquals(FrameDescriptor.HEADER_LENGTH + length, frameLength, "frame " + i);
                    assertEquals(i, buffer.get(ValueLayout.JAVA_LONG_UNALIGNED,
                            offset + FrameDescriptor.REQUEST_ID_OFFSET), "frame " + i);
                    for (int at = 0; at < length; at += 97) {
                        assertEquals((byte) i, buffer.get(ValueLayout.JAVA_BYTE,
                                offset + FrameDescriptor.HEADER_LENGTH + at), "frame " + i + ", byte " + at);
                    }
                    return true;
                }, pauseNanos > 0 ? 1 : 64);
                if (read > 0) {
                    writer.wakeIfRoom();
                } else {
                    Thread.onSpinWait();
                }
            }
            return seenParked;
        }
    }

    @Test
    void aWriterKeepsUpWithAConsumerThatReadsAsFastAsItCanAndEveryFrameArrivesWhole() throws Exception {
        Ring ring = Ring.create();
        int length = ring.writer().maxChunk();
        int frames = 40 * CAPACITY / length; // the ring fills and empties forty times over
        Writing writing = ring.writeInBackground(frames, length);
        ring.readChecking(frames, length, 0, null);
        writing.done().get(30, TimeUnit.SECONDS);
    }

    @Test
    void aWriterAheadOfASlowConsumerParksUntilThePollerSeesRoomAndLosesNothing() throws Exception {
        Ring ring = Ring.create();
        int length = ring.writer().maxChunk();
        int frames = 6 * CAPACITY / length; // the ring holds 8: the writer waits for room before most
        Writing writing = ring.writeInBackground(frames, length);
        // a frame every 2 ms: far longer than the writer polls for room (50 µs) before it parks
        int seenParked = ring.readChecking(frames, length, TimeUnit.MILLISECONDS.toNanos(2), writing.thread());
        writing.done().get(30, TimeUnit.SECONDS);
        assertTrue(seenParked > frames / 2, "the writer was parked before only " + seenParked + " of " + frames
                + " reads: it polled for room instead of waiting for the consumer's poller");
    }

    @Test
    void aWholeBodyIsOneEndFrameWithoutCreditAndNothingOnceTheSenderStopped() throws Exception {
        Ring ring = Ring.create();
        int length = ring.writer().maxChunk();
        byte[] body = new byte[length];
        Arrays.fill(body, (byte) 7);
        Outgoing stopped = new TestBody("stopped body", () -> true);
        assertFalse(ring.writer().writeWhole(1, FrameDescriptor.REQUEST_END, body, 0, length, NO_LIMIT, stopped));
        assertTrue(ring.writer().writeWhole(2, FrameDescriptor.REQUEST_END, body, 0, length, NO_LIMIT, BODY));
        int[] frames = {0};
        ring.consumer().read((kind, buffer, offset, frameLength) -> {
            frames[0]++;
            assertEquals(FrameDescriptor.REQUEST_END, kind);
            assertEquals(2, buffer.get(ValueLayout.JAVA_LONG_UNALIGNED, offset + FrameDescriptor.REQUEST_ID_OFFSET));
            assertEquals(FrameDescriptor.HEADER_LENGTH + length, frameLength);
            assertEquals((byte) 7, buffer.get(ValueLayout.JAVA_BYTE, offset + frameLength - 1));
            return true;
        }, 64);
        assertEquals(1, frames[0], "the stopped body wrote nothing");
    }

    @Test
    void aWriterNobodyMakesRoomForGivesUpAtItsStallTimeoutNamingTheBytes() {
        Ring ring = Ring.create();
        int length = ring.writer().maxChunk();
        byte[] chunk = new byte[length];
        IpcTimeoutException stalled = assertThrows(IpcTimeoutException.class, () -> {
            for (int i = 0; i < 2 * CAPACITY / length; i++) {
                ring.writer().write(FrameDescriptor.REQUEST, i, chunk, 0, length, TimeUnit.MILLISECONDS.toNanos(100),
                        BODY);
            }
        });
        assertTrue(stalled.getMessage().contains("test body: the peer made no room for "
                + (FrameDescriptor.HEADER_LENGTH + length) + " bytes in the ring within 100 ms"), stalled.getMessage());
    }
}
