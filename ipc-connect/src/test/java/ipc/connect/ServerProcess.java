package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A {@link TestServerMain} process on channels under a base name no other test uses, then
 * {@code SERVER.channel("bytes")}. In a static field ({@code @RegisterExtension static final ServerProcess SERVER =
 * new ServerProcess("echo");}) one process serves the whole class; in an instance field, each test gets its own.
 * Afterwards it is stopped and its files checked gone.
 */
final class ServerProcess implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
    private final String test;
    private String base;
    private Process process;
    private boolean perTest;

    ServerProcess(String test) {
        this.test = test;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        start(); // only called for a static field
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        if (process == null) { // an instance field: no beforeAll came
            perTest = true;
            start();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        if (perTest) {
            stop();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (!perTest) {
            stop();
        }
    }

    private void start() throws Exception {
        base = TestProcesses.uniqueChannel(test);
        process = TestProcesses.startServer(base);
    }

    private void stop() throws Exception {
        TestProcesses.stopAndAssertClean(process);
        assertEquals(List.of(), ChannelFiles.of(new IpcChannelFactory(), base), "files left behind");
    }

    /** The server process (for its pid, or to stop it). */
    Process process() {
        return process;
    }

    /** The channel {@code <base>.<behaviour>} (see {@link TestServerMain}). */
    String channel(String behaviour) {
        return base + "." + behaviour;
    }
}
