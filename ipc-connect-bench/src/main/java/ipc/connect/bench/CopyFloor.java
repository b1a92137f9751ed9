package ipc.connect.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The machine's floor for a stream through shared memory, with nothing of Ipc.Connect in it: two platform threads of
 * one process copy a 1 MiB block through a 1 MiB off-heap ring in 128 KiB chunks, two copies of each byte (as many
 * as the zero-copy rows make), each thread spinning on the other's position (yielding now and then).
 *
 * <p>On a VM this moves with where the host runs the two virtual cores: on this project's 2-core CI machine it was
 * 11-12 GB/s on one day, and mostly 4.8-7.0 GB/s on another with stretches of 18-44 GB/s, while one thread copied at
 * 45-47 GB/s in cache, and the same two threads on one core, handing over by yielding, at 9-17 GB/s. The stream rows of
 * {@code bench} move with it, UDS's too, so {@code bench} prints it beside them.
 */
final class CopyFloor {
    private static final int BLOCK = 1 << 20;
    private static final int RING = 1 << 20;
    private static final int CHUNK = 128 << 10;
    /** Tail (producer) and head (consumer) positions, 128 bytes apart: never on one cache line. */
    private static final int TAIL = 0;
    private static final int HEAD = 16;
    /** Passes of a wait between yields: busy-spinning alone, on one core the floor fell to 0.1 GB/s. */
    private static final int YIELD_EVERY = 64;

    private CopyFloor() {
    }

    /** The bytes {@link #run} streams for about {@code bytes}: whole chunks, at least one. */
    static long roundToChunks(long bytes) {
        return Math.max(1, bytes / CHUNK) * CHUNK;
    }

    /** Streams {@code total} bytes, whole chunks (see {@link #roundToChunks}), and returns the nanoseconds it took. */
    static long run(long total) throws InterruptedException {
        if (total <= 0 || total % CHUNK != 0) {
            throw new IllegalArgumentException("not a positive multiple of " + CHUNK + " bytes: " + total);
        }
        AtomicLongArray positions = new AtomicLongArray(HEAD + 16);
        byte[] source = new byte[BLOCK];
        byte[] target = new byte[BLOCK];
        try (Arena arena = Arena.ofShared()) {
            MemorySegment ring = arena.allocate(RING, 4096);
            Thread consumer = Thread.ofPlatform().name("copy-floor-consumer").start(() -> {
                for (long head = 0; head < total; ) {
                    long tail;
                    for (int idle = 1; (tail = positions.getAcquire(TAIL)) == head; idle++) {
                        FloorWait.idle(idle, YIELD_EVERY);
                    }
                    for (; head < tail; head += CHUNK) {
                        MemorySegment.copy(ring, ValueLayout.JAVA_BYTE, head & (RING - 1), target,
                                (int) (head & (BLOCK - 1)), CHUNK);
                    }
                    positions.setRelease(HEAD, head);
                }
            });
            long start = System.nanoTime();
            for (long tail = 0; tail < total; ) {
                for (int idle = 1; tail + CHUNK - positions.getAcquire(HEAD) > RING; idle++) {
                    FloorWait.idle(idle, YIELD_EVERY);
                }
                MemorySegment.copy(source, (int) (tail & (BLOCK - 1)), ring, ValueLayout.JAVA_BYTE, tail & (RING - 1),
                        CHUNK);
                tail += CHUNK;
                positions.setRelease(TAIL, tail);
            }
            consumer.join();
            return System.nanoTime() - start;
        }
    }
}
