package ipc.connect.internal.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Ordered access to 32- and 64-bit words of a shared {@link MemorySegment}, named by the vocabulary of
 * {@link ipc.connect.internal.memory the package documentation}. Offsets must be naturally aligned; a mapped file
 * starts on a page boundary, so every descriptor keeps its words aligned relative to the segment start.
 */
public final class SharedAccess {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private SharedAccess() {
    }

    public static int getIntPlain(MemorySegment segment, long offset) {
        return segment.get(ValueLayout.JAVA_INT, offset);
    }

    public static void setIntPlain(MemorySegment segment, long offset, int value) {
        segment.set(ValueLayout.JAVA_INT, offset, value);
    }

    public static int getIntAcquire(MemorySegment segment, long offset) {
        return (int) INT.getAcquire(segment, offset);
    }

    public static void setIntRelease(MemorySegment segment, long offset, int value) {
        INT.setRelease(segment, offset, value);
    }

    public static int getIntVolatile(MemorySegment segment, long offset) {
        return (int) INT.getVolatile(segment, offset);
    }

    public static void setIntVolatile(MemorySegment segment, long offset, int value) {
        INT.setVolatile(segment, offset, value);
    }

    public static int getAndAddInt(MemorySegment segment, long offset, int delta) {
        return (int) INT.getAndAdd(segment, offset, delta);
    }

    public static boolean compareAndSetInt(MemorySegment segment, long offset, int expected, int value) {
        return INT.compareAndSet(segment, offset, expected, value);
    }

    public static long getLongPlain(MemorySegment segment, long offset) {
        return segment.get(ValueLayout.JAVA_LONG, offset);
    }

    public static void setLongPlain(MemorySegment segment, long offset, long value) {
        segment.set(ValueLayout.JAVA_LONG, offset, value);
    }

    public static long getLongAcquire(MemorySegment segment, long offset) {
        return (long) LONG.getAcquire(segment, offset);
    }

    public static void setLongRelease(MemorySegment segment, long offset, long value) {
        LONG.setRelease(segment, offset, value);
    }

    public static long getLongVolatile(MemorySegment segment, long offset) {
        return (long) LONG.getVolatile(segment, offset);
    }

    public static long getAndAddLong(MemorySegment segment, long offset, long delta) {
        return (long) LONG.getAndAdd(segment, offset, delta);
    }

    /**
     * Adds to a counter that one thread at a time writes (its writers hold a lock): a plain read and a release store,
     * no atomic instruction. Readers in any process see whole values.
     */
    public static void addLongConfined(MemorySegment segment, long offset, long delta) {
        LONG.setRelease(segment, offset, (long) LONG.get(segment, offset) + delta);
    }
}
