package ipc.connect;

/** An empty body. */
public final class IpcDataEmpty implements IpcData {
    static final IpcDataEmpty INSTANCE = new IpcDataEmpty();

    public IpcDataEmpty() {
    }

    @Override
    public String toString() {
        return "IpcDataEmpty";
    }
}
