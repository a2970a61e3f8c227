"""tickets-read: the first service taken out of the helpdesk monolith. It answers the
ticket reads (one ticket, a listing) from the monolith's table, the same way."""
