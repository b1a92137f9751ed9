package ipc.connect.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/**
 * {@code bench}'s pipelined workload without Ipc.Connect, for comparison: the same caller (a {@link Semaphore} window
 * of requests in flight, a {@link CompletableFuture} for each request, completed directly, whose callback gives its
 * place in the window back) sends each request to an echo thread of this process through a bare ring in memory, and
 * the echo answers through another. The caller reads the answers after one send in {@value #READ_EVERY}, as a
 * pipelining sender of Ipc.Connect does at most, and while its window is full; both threads spin, and yield now and
 * then so that on one core the other runs.
 *
 * <p>It leaves out what Ipc.Connect needs on top: a lock and a full fence for each frame written (any thread may write
 * to a connection, and a reader asleep in the kernel must be woken), its table of requests by id, and a stream for each
 * response. Yet it is no floor: on this project's 2-core VM it ran about as fast as Ipc.Connect (2.1-2.8 million
 * requests/s at the median of twelve batches, in seven runs of a probe; Ipc.Connect's pipelined workload 1.9-3.0 in
 * sixteen, four of them interleaved with four of these, 2.2-2.8 against 2.1-2.4). A probe of the same rings with a
 * counter in place of the window and the futures ran at 6.5-11.8 million/s, and with one atomic instruction after each
 * write on both sides at 3.1-3.5: after each send, the caller's next atomic instruction (its window's, its future's)
 * waits for the request's cache lines to reach the other core, as the lock and fence of Ipc.Connect's writes do,
 * whichever comes first.
 */
final class BarePipeline implements AutoCloseable {
    /** The caller reads the answers after one send in this many (and while its window is full). */
    static final int READ_EVERY = 16;
    private static final int YIELD_EVERY = 1024;
    private static final long STOP = -1;
    private static final Object ANSWER = new Object();

    private final Arena arena = Arena.ofShared();
    private final int window;
    private final Ring requests;
    private final Ring answers;
    /** The futures of the requests in flight, by the low bits of their ids (at most {@code window} apart). */
    private final CompletableFuture<?>[] pending;
    private final Thread echo;
    private long lastId;

    /**
     * @param window the most requests in flight
     * @param request the bytes each request carries
     */
    BarePipeline(int window, byte[] request) {
        this.window = window;
        int slots = Integer.highestOneBit(window) << 1;
        this.pending = new CompletableFuture<?>[slots];
        // each ring holds at most a window of records: four windows of them leave room for the padding at its end
        int capacity = Integer.highestOneBit(4 * window * Ring.recordLength(request.length)) << 1;
        this.requests = new Ring(arena, capacity, request);
        this.answers = new Ring(arena, capacity, new byte[0]);
        this.echo = Thread.ofPlatform().daemon().name("bare-pipeline").start(this::echo);
    }

    private void echo() {
        while (true) {
            long id;
            for (int idle = 1; (id = requests.read()) == 0; idle++) {
                FloorWait.idle(idle, YIELD_EVERY);
            }
            if (id == STOP) {
                return;
            }
            answers.write(id);
        }
    }

    /** Sends {@code count} requests, at most a window of them in flight, and returns once all are answered. */
    void run(int count) {
        Semaphore places = new Semaphore(window);
        for (int i = 0; i < count; i++) {
            for (int idle = 1; !places.tryAcquire(); idle++) {
                readAnswers();
                FloorWait.idle(idle, YIELD_EVERY);
            }
            long id = ++lastId;
            CompletableFuture<Object> answer = new CompletableFuture<>();
            pending[(int) id & (pending.length - 1)] = answer;
            requests.write(id);
            answer.whenComplete((response, error) -> places.release());
            if (i % READ_EVERY == 0) {
                readAnswers();
            }
        }
        for (int idle = 1; !places.tryAcquire(window); idle++) {
            readAnswers();
            FloorWait.idle(idle, YIELD_EVERY);
        }
    }

    @SuppressWarnings("unchecked")
    private void readAnswers() {
        for (long id; (id = answers.read()) != 0; ) {
            int slot = (int) id & (pending.length - 1);
            CompletableFuture<Object> answer = (CompletableFuture<Object>) pending[slot];
            pending[slot] = null;
            answer.complete(ANSWER);
        }
    }

    /** Stops the echo thread, waits for it, and frees the rings. */
    @Override
    public void close() throws InterruptedException {
        requests.write(STOP);
        echo.join();
        arena.close();
    }

    /**
     * A bare ring of one producer and one consumer, as simple as one can be: the producer never waits for room (the
     * window bounds what is in it), writes a record plain, zeroes the next record's length and publishes the record
     * with a release store of its length; the consumer polls the length at its position with acquire.
     * <pre>
     *  | length (int; -1: padding to the end) | unused (int) | id (long) | payload ... |  aligned to 8 bytes
     * </pre>
     */
    private static final class Ring {
        private static final VarHandle LENGTH = ValueLayout.JAVA_INT.varHandle();
        private static final int ID_OFFSET = 8;
        private static final int PAYLOAD_OFFSET = 16;
        private static final int PADDING = -1;

        private final MemorySegment memory;
        private final int capacity;
        private final byte[] payload;
        private long tail; // producer's
        private long head; // consumer's

        Ring(Arena arena, int capacity, byte[] payload) {
            this.memory = arena.allocate(capacity, 64);
            this.capacity = capacity;
            this.payload = payload;
        }

        static int recordLength(int payloadLength) {
            return (PAYLOAD_OFFSET + payloadLength + 7) & -8;
        }

        void write(long id) {
            int length = recordLength(payload.length);
            int at = (int) (tail & (capacity - 1));
            if (at + length + ID_OFFSET > capacity) { // no room for it and the next length before the end
                LENGTH.set(memory, 0L, 0);
                LENGTH.setRelease(memory, (long) at, PADDING);
                tail += capacity - at;
                at = 0;
            }
            memory.set(ValueLayout.JAVA_LONG, at + ID_OFFSET, id);
            MemorySegment.copy(payload, 0, memory, ValueLayout.JAVA_BYTE, at + PAYLOAD_OFFSET, payload.length);
            LENGTH.set(memory, (long) at + length, 0);
            LENGTH.setRelease(memory, (long) at, length);
            tail += length;
        }

        /** The next record's id, or 0 if none is there yet. */
        long read() {
            int at = (int) (head & (capacity - 1));
            int length = (int) LENGTH.getAcquire(memory, (long) at);
            if (length == 0) {
                return 0;
            }
            if (length == PADDING) {
                head += capacity - at;
                return read();
            }
            head += length;
            return memory.get(ValueLayout.JAVA_LONG, at + ID_OFFSET);
        }
    }
}
