class FaceCropper:  # placeholder, replaced by the face front end
    pass
