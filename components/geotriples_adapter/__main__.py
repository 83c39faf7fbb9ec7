from components.common.launch import main

main("geotriples_adapter")
