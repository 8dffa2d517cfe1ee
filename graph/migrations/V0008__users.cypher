// Accounts for people (graph/users.py): each is found by its id (sessions), its user name or its phone number (log
// in), so each is unique. Phone numbers are optional: uniqueness holds for the users that have one.
CREATE CONSTRAINT user_id IF NOT EXISTS FOR (n:User) REQUIRE n.user_id IS UNIQUE;
CREATE CONSTRAINT user_username IF NOT EXISTS FOR (n:User) REQUIRE n.username IS UNIQUE;
CREATE CONSTRAINT user_phone IF NOT EXISTS FOR (n:User) REQUIRE n.phone IS UNIQUE;
