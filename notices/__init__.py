"""Result notices: rendering (pure), MIME building, a durable outbox and delivery.

`render` turns a context into subject/text/html; `message` turns that into the
exact bytes that will be sent; `outbox` keeps those bytes and their state so a
notice is never lost and never sent twice; `deliver` sends what was approved
through a `Mailer` (`mailer.SmtpMailer`, or `.eml` files for a preview); and
`catcher` is an embedded SMTP server for the demo and the tests.
"""
