package ipc.connect.cli;

import ipc.connect.bench.BenchClient;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The client process of {@code bench}: prints RESULT lines. */
@Command(name = "bench-client", hidden = true)
final class BenchClientCommand implements Callable<Integer> {
    @Option(names = "--channel", required = true)
    String channel;

    @Option(names = "--socket", required = true)
    Path socket;

    @Option(names = "--requests", required = true)
    int requests;

    @Option(names = "--bytes", required = true)
    long bytes;

    @Option(names = "--connections")
    boolean connections;

    @Override
    public Integer call() throws Exception {
        if (connections) {
            BenchClient.scaling(channel, socket, requests, System.out);
        } else {
            BenchClient.run(channel, socket, requests, bytes, System.out);
        }
        return 0;
    }
}
