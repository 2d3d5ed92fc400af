"""Robot-arm pick stations: pick tasks sent to the arms as commands, failed picks retried."""
