package ipc.connect.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ipc-connect serve|send|bench}. */
@Command(name = "ipc-connect", mixinStandardHelpOptions = true, version = "ipc-connect 0.1.0",
        description = "Request/response between processes over shared memory.",
        subcommands = {ServeCommand.class, SendCommand.class, StatCommand.class, BenchCommand.class, BenchServerCommand.class,
                BenchClientCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
