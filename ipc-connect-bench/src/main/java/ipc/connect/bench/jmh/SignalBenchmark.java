package ipc.connect.bench.jmh;

import ipc.connect.internal.signal.Signal;
import ipc.connect.internal.signal.SignalDescriptor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/** What the signal layer costs a writer: nothing but a fence when nobody sleeps, a futex wake otherwise. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SignalBenchmark {
    private Arena arena;
    private Signal signal;
    private Signal announced;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        MemorySegment memory = arena.allocate(2L * SignalDescriptor.LENGTH, 128);
        signal = new Signal(memory, 0);
        announced = new Signal(memory, SignalDescriptor.LENGTH);
        announced.announce(); // a sleeper that never sleeps: every signal() goes to the kernel
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    /** signal() with no announced sleeper: the writer's common case. */
    @Benchmark
    public void signalNobodyWaiting() {
        signal.signal();
    }

    /** signal() with a sleeper announced: a futex wake system call. */
    @Benchmark
    public void signalWithWaiter() {
        announced.signal();
    }

    /** A sleeper's announce and retract, without sleeping. */
    @Benchmark
    public int announceRetract() {
        int sequence = signal.announce();
        signal.retract();
        return sequence;
    }
}
