package ipc.connect.bench.jmh;

import ipc.connect.internal.ring.OneToOneRing;
import ipc.connect.internal.ring.RingDescriptor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The ring alone: one producer thread and one consumer thread moving records (headers only: payload bytes are
 * claimed, not copied) through shared memory. Read the {@code written} and {@code read} counters.
 */
@State(Scope.Group)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RingBenchmark {
    @Param({"16", "1024", "65536"})
    int payload;

    private Arena arena;
    private OneToOneRing producer;
    private OneToOneRing consumer;

    @Setup
    public void setUp() {
        int capacity = 1 << 20;
        arena = Arena.ofShared();
        MemorySegment memory = arena.allocate(RingDescriptor.ringLength(capacity), 128);
        producer = new OneToOneRing(memory, 0, capacity);
        consumer = new OneToOneRing(memory, 0, capacity);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    /** Per-thread record counts: the scores that matter are {@code written} and {@code read} per microsecond. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Records {
        public long written;
        public long read;
    }

    /** One claim attempt; counts the records written. */
    @Benchmark
    @Group("ring")
    @GroupThreads(1)
    public void offer(Records records) {
        long at = producer.tryClaim(1, payload);
        if (at >= 0) {
            producer.commit();
            records.written++;
        }
    }

    /** One batch read; counts the records read. */
    @Benchmark
    @Group("ring")
    @GroupThreads(1)
    public void poll(Records records) {
        records.read += consumer.read((type, buffer, offset, length) -> true, 64);
    }
}
