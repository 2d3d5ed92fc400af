"""Edge agent: turns device traffic on the site broker into typed events and uplinks them."""
