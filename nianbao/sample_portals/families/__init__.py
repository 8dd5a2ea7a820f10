"""One module per portal family: how its pages look, where its reports live, what it serves on the fly."""
