"""Starting and stopping the kit's processes on 127.0.0.1."""
