from components.common.launch import main

main("geostore")
