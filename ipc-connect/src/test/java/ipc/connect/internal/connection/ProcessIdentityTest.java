package ipc.connect.internal.connection;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Liveness by pid and start time, in full and through a watch. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProcessIdentityTest {
    private static Process sleeper() throws Exception {
        return new ProcessBuilder("sleep", "60").start();
    }

    private static ProcessIdentity identityOf(Process process, long shiftMillis) {
        long start = process.toHandle().info().startInstant().map(Instant::toEpochMilli).orElseThrow();
        return new ProcessIdentity(process.pid(), start + shiftMillis);
    }

    @Test
    void aWatchSeesTheProcessRunThenEnd() throws Exception {
        Process process = sleeper();
        try {
            ProcessIdentity identity = identityOf(process, 0);
            ProcessIdentity.Watch watch = identity.watch();
            assertTrue(identity.isAlive());
            assertTrue(watch.isAlive());
            assertTrue(watch.isAlive(), "asked again, through the handle found");
            process.destroyForcibly().waitFor();
            assertFalse(watch.isAlive());
            assertFalse(identity.isAlive());
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void anotherStartTimeIsAnotherProcess() throws Exception {
        Process process = sleeper();
        try {
            ProcessIdentity reused = identityOf(process, -60_000); // as if the named process had ended long ago
            assertFalse(reused.isAlive());
            assertFalse(reused.watch().isAlive());
        } finally {
            process.destroyForcibly().waitFor();
        }
    }

    @Test
    void thisProcessIsAlive() {
        assertTrue(ProcessIdentity.current().watch().isAlive());
    }
}
