/dev/fd/3: line 93: up: command not found
