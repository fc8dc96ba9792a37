"""The secure discussion forum: groups, spaces, topics, posts, reading state and moderation."""
