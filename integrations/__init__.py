"""Open data and integrations: the read API, bulk data and organisers' webhooks. It sits above
`petitions` and `signatures` and reads them; neither imports it."""
