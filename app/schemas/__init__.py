"""marshmallow schemas: the contract of every request and response."""
