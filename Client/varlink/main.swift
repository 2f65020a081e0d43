print("varlink: not yet written")
