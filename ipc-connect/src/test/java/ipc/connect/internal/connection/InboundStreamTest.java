package ipc.connect.internal.connection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ipc.connect.IpcClosedException;
import ipc.connect.IpcTimeoutException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** The receiving buffer alone: order, wrap-around, end, failure, credit, close, views. */
class InboundStreamTest {
    private final List<Integer> credits = new ArrayList<>();
    private final List<Boolean> loansEnded = new java.util.concurrent.CopyOnWriteArrayList<>(); // their readsNext
    private int earlyCloses;

    private InboundStream stream(int maxBuffered, long timeoutNanos) {
        return new InboundStream(maxBuffered, timeoutNanos, owner("test stream", () -> { }, () -> earlyCloses++,
                credits::add));
    }

    private InboundStream.Owner owner(String description, Runnable onDrained, Runnable onEarlyClose,
                                      java.util.function.IntConsumer returnCredit) {
        return new InboundStream.Owner() {
            @Override
            public void endLoan(boolean readsNext) {
                loansEnded.add(readsNext);
            }

            @Override
            public String description() {
                return description;
            }

            @Override
            public void onDrained() {
                onDrained.run();
            }

            @Override
            public void onEarlyClose() {
                onEarlyClose.run();
            }

            @Override
            public void returnCredit(int bytes) {
                returnCredit.accept(bytes);
            }
        };
    }

    /** Native memory, as a ring's, holding {@code count} bytes of {@link #bytes} from 0: what a poller lends. */
    private static MemorySegment ringOf(int count) {
        MemorySegment ring = java.lang.foreign.Arena.ofAuto().allocate(count);
        MemorySegment.copy(bytes(0, count), 0, ring, 0, count);
        return ring;
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

    /** A read waiting on the empty buffer lends its array: the chunk lands in it, what does not fit waits after. */
    @Test
    void aWaitingReadTakesTheChunkIntoItsArrayAndTheRestIsBuffered() throws Exception {
        InboundStream in = stream(32, 10_000_000_000L); // window given back every 8 bytes read
        byte[] into = new byte[10];
        BackgroundRead read = BackgroundRead.fed(in, into, () -> assertTrue(in.offer(bytes(0, 25), 0, 25)));
        assertEquals(10, read.count, "thrown: " + read.thrown);
        assertArrayEquals(bytes(0, 10).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), into);
        assertEquals(List.of(10), credits, "bytes copied into the read count as read: window given back");
        assertEquals(15, in.available(), "the rest waits in the buffer, in order");
        byte[] rest = new byte[20];
        assertEquals(15, in.read(rest, 0, 20));
        assertArrayEquals(bytes(10, 15).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                java.util.Arrays.copyOf(rest, 15));
    }

    @Test
    void aLastChunkEndsTheBodyInTheSameOfferAndWakesTheReadAtOnce() throws Exception {
        InboundStream in = stream(64, 0); // no read timeout: only a wake-up ends the wait
        byte[] into = new byte[40];
        // no flush: the end wakes the read, though its array has room for more
        BackgroundRead read = BackgroundRead.fed(in, into, () -> {
            assertTrue(in.offer(bytes(0, 10), 0, 10, true));
            assertTrue(in.isEnded());
        });
        assertEquals(10, read.count, "thrown: " + read.thrown);
        in.end(); // as the exchange still calls it: nothing more happens
        assertEquals(-1, in.read());
    }

    @Test
    void readAllBytesOfAFailedBodyThrowsEvenOnceItEnded() {
        InboundStream in = stream(64, 0);
        assertTrue(in.offer(bytes(0, 10), 0, 10));
        in.fail(new IOException("refused: larger than the limit"));
        in.end(); // a refused request's end frame still comes
        IOException e = assertThrows(IOException.class, in::readAllBytes, "not the 10 bytes as the whole body");
        assertTrue(e.getMessage().contains("refused"), e.getMessage());
    }

    @Test
    void aRefusedLastChunkDoesNotEndTheBodyAndADroppedOneDoes() throws IOException {
        InboundStream in = stream(16, 0);
        assertTrue(in.offer(bytes(0, 16), 0, 16));
        assertFalse(in.offer(bytes(16, 4), 0, 4, true), "the buffer is full");
        assertFalse(in.isEnded(), "refused: offered again later");
        assertEquals(16, in.skip(16));
        assertTrue(in.offer(bytes(16, 4), 0, 4, true));
        assertTrue(in.isEnded());
        assertEquals(4, in.readAllBytes().length);

        InboundStream closed = stream(16, 0);
        closed.close();
        assertTrue(closed.offer(bytes(0, 4), 0, 4, true), "dropped: the consumer closed the stream");
        assertTrue(closed.isEnded());
    }

    @Test
    void aFirstChunkOfferedBeforeTheHandOverIsReadLikeAnyOther() throws IOException {
        InboundStream whole = stream(64, 0);
        whole.offerFirst(bytes(0, 11), 0, 11, true);
        assertTrue(whole.isEnded());
        assertArrayEquals(bytes(0, 11).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), whole.readAllBytes());

        InboundStream streaming = stream(64, 0);
        streaming.offerFirst(bytes(0, 40), 0, 40, false);
        assertFalse(streaming.isEnded());
        assertFalse(streaming.offer(bytes(40, 40), 0, 40, true), "80 bytes: more than the 64 buffered");
        byte[] into = new byte[24];
        assertEquals(24, streaming.read(into));
        assertEquals((byte) 23, into[23]);
        assertTrue(streaming.offer(bytes(40, 40), 0, 40, true), "16 left and 40 more: within the 64");
        byte[] rest = streaming.readAllBytes();
        assertEquals(56, rest.length);
        assertEquals((byte) 24, rest[0]);
        assertEquals((byte) 79, rest[55]);

        InboundStream failed = stream(64, 0);
        failed.close(); // not fresh (another thread closed it): the locked path, which drops the chunk
        failed.offerFirst(bytes(0, 8), 0, 8, true);
        assertThrows(IOException.class, failed::read);
    }

    @Test
    void closingABodyReadWholeNeedsNothingElseAndReadsThenFail() throws IOException {
        InboundStream in = stream(64, 0);
        in.offerFirst(bytes(0, 8), 0, 8, true);
        assertEquals(8, in.readAllBytes().length);
        in.close();
        in.close();
        assertEquals(0, earlyCloses, "not early: the body ended");
        assertEquals(List.of(), credits);
        assertThrows(IOException.class, in::read, "closed");

        InboundStream unread = stream(64, 0);
        unread.offerFirst(bytes(0, 8), 0, 8, true);
        unread.close(); // 8 bytes buffered: the locked close discards them
        assertEquals(0, earlyCloses);
        assertThrows(IOException.class, unread::read);
    }

    /**
     * Chunks that leave room in a waiting read's array do not wake it: the producer's flush, at the end of its pass,
     * does.
     */
    @Test
    void chunksIntoAWaitingReadAreHandedOverByFlush() throws Exception {
        InboundStream in = stream(64, 0); // no read timeout: only a wake-up ends the wait
        byte[] into = new byte[40];
        BackgroundRead read = BackgroundRead.fed(in, into, () -> {
            assertTrue(in.offer(bytes(0, 10), 0, 10));
            assertTrue(in.offer(bytes(10, 10), 0, 10));
            in.flush();
        });
        int count = read.count;
        assertTrue(count == 10 || count == 20, "one chunk, or both: " + count + ", thrown: " + read.thrown);
        byte[] rest = new byte[20];
        int more = count == 20 ? 0 : in.read(rest, 0, 20);
        assertEquals(20, count + more);
        byte[] all = java.util.Arrays.copyOf(into, 20);
        System.arraycopy(rest, 0, all, count, more);
        assertArrayEquals(bytes(0, 20).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), all);
    }

    /** An interrupted read gives its array back: a later chunk goes to the buffer, not into the abandoned array. */
    @Test
    void anInterruptedReadThrowsAndTheNextChunkIsBuffered() throws Exception {
        InboundStream in = stream(64, 10_000_000_000L);
        byte[] abandoned = new byte[10];
        BackgroundRead read = BackgroundRead.waiting(in, abandoned);
        read.thread.interrupt();
        read.join();
        assertTrue(read.thrown instanceof java.io.InterruptedIOException, String.valueOf(read.thrown));
        assertTrue(in.offer(bytes(1, 5), 0, 5));
        assertArrayEquals(new byte[10], abandoned, "nothing written into the abandoned array");
        byte[] into = new byte[5];
        assertEquals(5, in.read(into, 0, 5));
        assertArrayEquals(bytes(1, 5).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), into);
    }

    /**
     * A read of a whole array, or a {@code readView}, on a platform thread of its own: its count or view, or what it
     * threw.
     */
    private static final class BackgroundRead {
        final Thread thread;
        volatile int count = -2;
        volatile ByteBuffer view;
        volatile IOException thrown;

        private BackgroundRead(InboundStream in, byte[] into, int maxView) {
            thread = Thread.ofPlatform().start(() -> {
                try {
                    if (into != null) {
                        count = in.read(into, 0, into.length);
                    } else {
                        view = in.readView(maxView);
                    }
                } catch (IOException e) {
                    thrown = e;
                }
            });
        }

        /** Starts the read and returns once it waits for data. */
        static BackgroundRead waiting(InboundStream in, byte[] into) throws InterruptedException {
            return started(new BackgroundRead(in, into, 0));
        }

        /** What a test does while a read waits. */
        interface Producer {
            void run() throws Exception;
        }

        /**
         * Starts a read, runs {@code producer} once it waits, and returns once it has returned (failing if it still
         * waits after 10 s); the read is stopped either way.
         */
        static BackgroundRead fed(InboundStream in, byte[] into, Producer producer) throws Exception {
            BackgroundRead read = waiting(in, into);
            try {
                producer.run();
                read.join();
            } finally {
                read.stop();
            }
            return read;
        }

        /** Starts a {@code readView(maxView)} and returns once it waits for data. */
        static BackgroundRead waitingView(InboundStream in, int maxView) throws InterruptedException {
            return started(new BackgroundRead(in, null, maxView));
        }

        private static BackgroundRead started(BackgroundRead read) throws InterruptedException {
            long deadline = System.nanoTime() + 10_000_000_000L;
            Thread.State state;
            while ((state = read.thread.getState()) != Thread.State.TIMED_WAITING && state != Thread.State.WAITING) {
                assertTrue(read.thread.isAlive() && System.nanoTime() < deadline, "the read waits: " + state);
                Thread.sleep(1);
            }
            return read;
        }

        /** Waits (at most 10 s) for the read to return. */
        void join() throws InterruptedException {
            joinWithin10s(thread, "the read returned");
        }

        /** Interrupts the read if it still waits, and waits for it (at most 10 s): a failed test leaves no thread. */
        void stop() throws InterruptedException {
            thread.interrupt();
            thread.join(10_000);
        }
    }

    /** readAllBytes: the rest of an ended body exactly, across the wrap and after a view; the end after it. */
    @Test
    void readAllBytesTakesTheRestOfTheBody() throws Exception {
        InboundStream in = stream(64, 0);
        assertTrue(in.offer(bytes(0, 40), 0, 40));
        assertEquals(30, in.skip(30));
        assertTrue(in.offer(bytes(40, 40), 0, 40)); // wraps around the 64-byte buffer
        in.end();
        assertArrayEquals(bytes(30, 50).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), in.readAllBytes(),
                "the rest, across the wrap");
        assertArrayEquals(new byte[0], in.readAllBytes(), "at the end: empty");
        assertEquals(-1, in.read());
        in.close();
        assertThrows(IOException.class, in::readAllBytes);

        InboundStream viewed = stream(64, 0);
        assertTrue(viewed.offer(bytes(0, 20), 0, 20));
        viewed.end();
        assertEquals(5, viewed.readView(5).remaining());
        assertArrayEquals(bytes(5, 15).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), viewed.readAllBytes(),
                "after a lent view: what follows it");
    }

    /**
     * A body that comes whole into the empty buffer is kept in an array of its own size (handed over as it is by
     * readAllBytes): read in pieces, by views, or after a partial read, its bytes come out in order all the same.
     */
    @Test
    void aBodyThatCameWholeIsReadInPiecesViewsOrAllAtOnce() throws Exception {
        byte[] eleven = bytes(0, 11).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        InboundStream whole = stream(64, 0);
        assertTrue(whole.offer(bytes(0, 11), 0, 11, true));
        assertArrayEquals(eleven, whole.readAllBytes());
        assertArrayEquals(new byte[0], whole.readAllBytes(), "then nothing");
        assertEquals(-1, whole.read());

        InboundStream pieces = stream(64, 0);
        assertTrue(pieces.offer(bytes(0, 11), 0, 11, true));
        byte[] into = new byte[16];
        assertEquals(5, pieces.read(into, 0, 5));
        assertEquals(6, pieces.read(into, 5, 11), "the rest, up to the body's end");
        assertArrayEquals(eleven, java.util.Arrays.copyOf(into, 11));
        assertEquals(-1, pieces.read(into, 0, 1));

        InboundStream viewed = stream(64, 0);
        assertTrue(viewed.offer(bytes(0, 11), 0, 11, true));
        assertEquals(4, viewed.skip(4));
        ByteBuffer view = viewed.readView(64);
        assertEquals(7, view.remaining(), "up to the body's end, which is the array's");
        assertEquals((byte) 4, view.get(0));
        assertNull(viewed.readView(64));

        InboundStream partly = stream(64, 0);
        assertTrue(partly.offer(bytes(0, 11), 0, 11, true));
        assertEquals(0, partly.read());
        assertArrayEquals(bytes(1, 10).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), partly.readAllBytes(),
                "the rest after a read");
    }

    /** transferTo writes the rest of the body, in order across the wrap, while a producer still offers it. */
    @Test
    void transferToWritesTheRestOfTheBody() throws Exception {
        InboundStream in = stream(64, 10_000_000_000L);
        assertTrue(in.offer(bytes(0, 40), 0, 40));
        assertEquals(30, in.skip(30));
        Thread producer = produce(in, 40, 400, 40);
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            assertEquals(370, in.transferTo(out));
            assertArrayEquals(bytes(30, 370).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), out.toByteArray());
            assertEquals(-1, in.read(), "at the end");
        } finally {
            joinWithin10s(producer, "producer ended");
        }
    }

    /** readAllBytes before the end waits for the rest, chunk by chunk. */
    @Test
    void readAllBytesOfABodyStillComingWaitsForItsEnd() throws Exception {
        InboundStream in = stream(64, 10_000_000_000L);
        assertTrue(in.offer(bytes(0, 10), 0, 10));
        Thread producer = produce(in, 10, 200, 10);
        try {
            assertArrayEquals(bytes(0, 200).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), in.readAllBytes());
        } finally {
            joinWithin10s(producer, "producer ended");
        }
    }

    /** A thread offering bytes {@code from} to {@code to}, {@code chunk} at a time (again if refused), then the end. */
    private static Thread produce(InboundStream in, int from, int to, int chunk) {
        return Thread.ofPlatform().start(() -> {
            for (int at = from; at < to; at += chunk) {
                MemorySegment bytes = bytes(at, chunk);
                while (!in.offer(bytes, 0, chunk)) {
                    Thread.onSpinWait();
                }
            }
            in.end();
        });
    }

    private static void joinWithin10s(Thread thread, String what) throws InterruptedException {
        thread.join(10_000);
        assertFalse(thread.isAlive(), what);
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

    @Test
    void aViewLendsTheBytesInPlaceUntilTheNextCall() throws IOException {
        InboundStream in = stream(64, 0);
        assertTrue(in.offer(bytes(0, 40), 0, 40));
        ByteBuffer view = in.readView(30);
        assertTrue(view.isReadOnly());
        assertEquals(0, view.position());
        assertEquals(30, view.remaining());
        assertEquals(0, view.get(0));
        assertEquals(29, view.get(29));
        // the 30 lent bytes still occupy the buffer: 10 buffered + 30 lent + 25 is over the bound of 64
        assertFalse(in.offer(bytes(40, 25), 0, 25), "a lent view is never overwritten");
        assertTrue(in.offer(bytes(40, 24), 0, 24), "room beside the view is used");
        assertEquals(29, view.get(29), "the view is intact");
        assertEquals(List.of(), credits, "lent bytes are not given back as window while lent");
        byte[] next = new byte[10];
        assertEquals(10, in.read(next, 0, 10));
        assertArrayEquals(bytes(30, 10).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), next);
        assertEquals(List.of(40), credits, "returned on the next call: the 30 lent and the 10 read");
        assertTrue(in.offer(bytes(64, 25), 0, 25), "the view's room is free again");
    }

    /**
     * A view waiting on the empty buffer is lent the producer's memory itself (no copy: a later write there shows
     * in it); the loan ends when the consumer comes back after taking it all, and its bytes then count as read.
     */
    @Test
    void aWaitingViewIsLentTheChunkInPlaceUntilTheConsumerComesBack() throws Exception {
        InboundStream in = stream(64, 10_000_000_000L); // window given back every 16 bytes read
        MemorySegment ring = ringOf(100);
        assertEquals(InboundStream.NOT_LENT, in.lend(ring, 10, 50), "nobody reads by views: copy it");
        BackgroundRead read = BackgroundRead.waitingView(in, 1000);
        assertEquals(InboundStream.LENT, in.lend(ring, 10, 50));
        read.join();
        ByteBuffer view = read.view;
        assertTrue(view != null && view.isDirect() && view.isReadOnly(), "a view of the lent memory: " + view);
        assertEquals(50, view.remaining());
        assertEquals(10, view.get(0));
        assertEquals(59, view.get(49));
        ring.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 10, (byte) 99);
        assertEquals(99, view.get(0), "in place, not a copy");
        assertTrue(in.isViewedInPlaceBy(read.thread));
        assertEquals(InboundStream.NOT_LENT, in.lend(ring, 60, 10), "one loan at a time");
        assertEquals(0, in.available(), "the view took all of it");
        assertEquals(List.of(), loansEnded);
        assertEquals(List.of(), credits, "lent bytes are not given back as window while lent");

        assertTrue(in.offer(bytes(60, 10), 0, 10), "a chunk offered meanwhile waits after the lent one");
        ByteBuffer next = in.readView(1000);
        assertEquals(List.of(true), loansEnded, "given back when the consumer came back to read on");
        assertFalse(in.isViewedInPlaceBy(read.thread));
        assertFalse(next.isDirect(), "the buffered chunk is viewed in the buffer");
        assertEquals(10, next.remaining());
        assertEquals(60, next.get(0));
        assertEquals(List.of(50), credits, "the lent bytes count as read once given back");
    }

    /**
     * While the consumer reads by views but does not wait (a view out, or bytes buffered), a chunk is best left in
     * place for its next view; once it reads by copies, chunks are copied again.
     */
    @Test
    void chunksAreLeftInPlaceForAConsumerReadingByViews() throws Exception {
        InboundStream in = stream(1024, 10_000_000_000L);
        MemorySegment ring = ringOf(100);
        assertTrue(in.offer(bytes(0, 10), 0, 10));
        assertEquals(4, in.readView(4).remaining());
        assertEquals(InboundStream.LEAVE, in.lend(ring, 0, 100), "a view is out, 6 bytes buffered");
        assertEquals(6, in.readView(100).remaining());
        assertEquals(InboundStream.LEAVE, in.lend(ring, 0, 100), "a view is out");
        byte[] into = new byte[1];
        BackgroundRead read = BackgroundRead.waiting(in, into);
        assertEquals(InboundStream.NOT_LENT, in.lend(ring, 0, 100), "reading by copies: copy it");
        assertTrue(in.offer(bytes(10, 1), 0, 1));
        read.join();
        assertEquals(1, read.count);
        in.end();
        assertEquals(InboundStream.NOT_LENT, in.lend(ring, 0, 100), "after the end: offered, and dropped");
    }

    /** Partial views, a copying read and a skip take a lent chunk in turn; a copy of its last bytes ends the loan. */
    @Test
    void aLentChunkIsTakenByPartialViewsReadsAndSkips() throws Exception {
        InboundStream in = stream(1024, 10_000_000_000L);
        MemorySegment ring = ringOf(100);
        BackgroundRead read = BackgroundRead.waitingView(in, 20);
        assertEquals(InboundStream.LENT, in.lend(ring, 0, 100));
        read.join();
        assertEquals(20, read.view.remaining());
        ByteBuffer second = in.readView(30);
        assertTrue(second.isDirect());
        assertEquals(30, second.remaining());
        assertEquals(20, second.get(0), "views go on where the last one ended");
        byte[] into = new byte[25];
        assertEquals(25, in.read(into, 0, 25));
        assertArrayEquals(bytes(50, 25).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), into);
        assertEquals(75, in.read(), "a single byte");
        assertEquals(List.of(), loansEnded, "24 bytes of it left");
        assertEquals(10, in.skip(10));
        byte[] last = new byte[40];
        assertEquals(14, in.read(last, 0, 40), "no more than the lent chunk holds");
        assertArrayEquals(bytes(86, 14).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                java.util.Arrays.copyOf(last, 14));
        assertEquals(List.of(false), loansEnded, "copied out: given back at once, the consumer may not come back");
        assertEquals(0, in.available());
    }

    /** Closing the stream gives a lent chunk back; so does reading to the end after a lent last chunk. */
    @Test
    void aLentChunkGoesBackOnCloseAndAtTheEnd() throws Exception {
        MemorySegment ring = ringOf(100);
        InboundStream closed = stream(1024, 10_000_000_000L);
        BackgroundRead read = BackgroundRead.waitingView(closed, 100);
        assertEquals(InboundStream.LENT, closed.lend(ring, 0, 100));
        read.join();
        closed.close();
        assertEquals(List.of(false), loansEnded, "given back on close: nobody reads on");
        assertEquals(1, earlyCloses);

        loansEnded.clear();
        InboundStream ended = stream(1024, 10_000_000_000L);
        read = BackgroundRead.waitingView(ended, 100);
        assertEquals(InboundStream.LENT, ended.lend(ring, 0, 40));
        ended.end(); // the lent chunk was the last
        read.join();
        assertEquals(40, read.view.remaining());
        assertNull(ended.readView(100), "the end after it");
        assertEquals(List.of(false), loansEnded, "given back before the end is reported; nothing follows");
        ended.close();
        assertEquals(List.of(false), loansEnded, "once");
    }

    /** A lent chunk taken back early: what was not viewed yet moves into the buffer, in order, and the loan ends. */
    @Test
    void aLentChunkTakenBackLeavesItsRestInTheBuffer() throws Exception {
        InboundStream in = stream(64, 10_000_000_000L); // window given back every 16 bytes read
        MemorySegment ring = ringOf(100);
        BackgroundRead read = BackgroundRead.waitingView(in, 10);
        assertEquals(InboundStream.LENT, in.lend(ring, 0, 40));
        read.join();
        assertEquals(10, read.view.remaining());
        in.takeBackLoan();
        assertEquals(List.of(false), loansEnded);
        assertFalse(in.isViewedInPlaceBy(read.thread));
        ring.fill((byte) -1); // the ring's space is the producer's again
        assertEquals(30, in.available());
        byte[] rest = new byte[30];
        assertEquals(30, in.read(rest, 0, 30));
        assertArrayEquals(bytes(10, 30).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), rest);
        assertEquals(List.of(40), credits, "the viewed and the copied bytes, once read, count toward the window");
        in.takeBackLoan();
        assertEquals(List.of(false), loansEnded, "nothing lent: nothing to give back");
    }

    /** readAllBytes and transferTo take a lent chunk's bytes first, then the rest. */
    @Test
    void readAllBytesAndTransferToTakeALentChunkFirst() throws Exception {
        MemorySegment ring = ringOf(100);
        for (boolean transfer : new boolean[] {false, true}) {
            InboundStream in = stream(1024, 10_000_000_000L);
            BackgroundRead read = BackgroundRead.waitingView(in, 10);
            assertEquals(InboundStream.LENT, in.lend(ring, 0, 60));
            read.join();
            assertTrue(in.offer(bytes(60, 20), 0, 20));
            in.end();
            byte[] rest;
            if (transfer) {
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                assertEquals(70, in.transferTo(out));
                rest = out.toByteArray();
            } else {
                rest = in.readAllBytes();
            }
            assertArrayEquals(bytes(10, 70).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), rest,
                    transfer ? "transferTo" : "readAllBytes");
        }
    }

    @Test
    void aViewStopsAtTheWrapAndNullMeansTheEnd() throws IOException {
        InboundStream in = stream(64, 0);
        in.offer(bytes(0, 50), 0, 50);
        assertEquals(50, in.skip(50));
        in.offer(bytes(50, 30), 0, 30); // 14 bytes to the end of the 64-byte array, 16 after the wrap
        ByteBuffer first = in.readView(100);
        assertEquals(14, first.remaining(), "contiguous bytes only");
        assertEquals((byte) 50, first.get(0));
        ByteBuffer second = in.readView(100);
        assertEquals(16, second.remaining());
        assertEquals((byte) 64, second.get(0));
        in.end();
        assertNull(in.readView(1));
        assertThrows(IllegalArgumentException.class, () -> in.readView(0));
    }

    /** A producer thread offers random chunks while the consumer mixes views, reads and skips: nothing lost. */
    @Property(tries = 200)
    void viewsReadsAndSkipsSeeEveryByteInOrder(@ForAll @IntRange(min = 16, max = 4096) int maxBuffered,
                                               @ForAll("chunks") List<Integer> chunkSizes,
                                               @ForAll long seed) throws Exception {
        List<Integer> given = java.util.Collections.synchronizedList(new ArrayList<>());
        Object roomLock = new Object();
        InboundStream in = new InboundStream(maxBuffered, 10_000_000_000L, owner("property stream",
                () -> { synchronized (roomLock) { roomLock.notifyAll(); } }, () -> { }, given::add));
        boolean lastEnds = (seed & 1) == 0; // the last chunk ends the body, or an end() after it does
        Thread producer = Thread.ofPlatform().start(() -> {
            int position = 0;
            for (int c = 0; c < chunkSizes.size(); c++) {
                int length = Math.min(chunkSizes.get(c), maxBuffered);
                MemorySegment chunk = bytes(position, length);
                boolean last = lastEnds && c == chunkSizes.size() - 1;
                while (!in.offer(chunk, 0, length, last)) {
                    synchronized (roomLock) {
                        try {
                            roomLock.wait(1);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
                position += length;
            }
            in.end();
        });
        try {
            java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
            int expected = 0;
            while (true) {
                int want = 1 + random.nextInt(maxBuffered);
                switch (random.nextInt(3)) {
                    case 0 -> {
                        ByteBuffer view = in.readView(want);
                        if (view == null) {
                            assertEquals(chunkSizesTotal(chunkSizes, maxBuffered), expected);
                            return;
                        }
                        for (int i = 0; i < view.remaining(); i++) {
                            assertEquals((byte) (expected + i), view.get(i), "byte " + (expected + i));
                        }
                        expected += view.remaining();
                    }
                    case 1 -> {
                        byte[] into = new byte[want];
                        int n = in.read(into, 0, want);
                        if (n < 0) {
                            assertEquals(chunkSizesTotal(chunkSizes, maxBuffered), expected);
                            return;
                        }
                        for (int i = 0; i < n; i++) {
                            assertEquals((byte) (expected + i), into[i], "byte " + (expected + i));
                        }
                        expected += n;
                    }
                    default -> expected += (int) in.skip(want);
                }
            }
        } finally {
            producer.interrupt();
            producer.join(10_000);
            assertFalse(producer.isAlive(), "producer ended");
        }
    }

    private static int chunkSizesTotal(List<Integer> sizes, int maxBuffered) {
        return sizes.stream().mapToInt(size -> Math.min(size, maxBuffered)).sum();
    }

    @Provide
    Arbitrary<List<Integer>> chunks() {
        return Arbitraries.integers().between(0, 5000).list().ofMaxSize(60);
    }
}
