package ipc.connect.internal.signal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Yielding the core from platform and virtual threads. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CoreYieldTest {
    @Test
    void linuxVirtualThreadsYieldTheirCarriersCore() {
        assumeTrue(System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux"), "Linux");
        assertTrue(CoreYield.yieldsCarrier(), "sched_yield bound");
    }

    @Test
    void bothKindsOfThreadYieldAndGoOn() throws Exception {
        try (ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor();
             ExecutorService platform = Executors.newSingleThreadExecutor()) {
            Future<Integer> onVirtual = virtual.submit(() -> yieldTimes(10_000));
            Future<Integer> onPlatform = platform.submit(() -> yieldTimes(10_000));
            assertEquals(10_000, onVirtual.get(20, TimeUnit.SECONDS));
            assertEquals(10_000, onPlatform.get(20, TimeUnit.SECONDS));
        }
    }

    private static int yieldTimes(int times) {
        int done = 0;
        for (int i = 0; i < times; i++) {
            CoreYield.yieldCore();
            done++;
        }
        return done;
    }
}
