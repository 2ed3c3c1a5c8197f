package emulator

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"sync"
)

// EC2 CreateImage, absent from kumo, in the ec2Query wire format: an AMI
// of an emulated instance, named and tagged as asked. Without NoReboot a
// running instance is rebooted first, as AWS does for a consistent image.

// EC2Image is what the emulator keeps of one created AMI.
type EC2Image struct {
	ID, Name, Instance string
	NoReboot           bool
	Tags               map[string]string
}

type ec2Images struct {
	mu     sync.Mutex
	seq    int
	byID   map[string]EC2Image
	byName map[string]string
}

// amiName is what AWS allows in an AMI name (compiled on first use: the
// counted repetition makes a large program that serve has no use for).
var amiName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9()\[\] ./'@_-]{3,128}$`) })

func (s *Server) registerEC2Images() {
	im := &ec2Images{byID: map[string]EC2Image{}, byName: map[string]string{}}
	s.images = im
	s.Handle("ec2:CreateImage", func(w http.ResponseWriter, _ *http.Request, body []byte) { s.createImage(w, body) })
}

// ImagesOf lists the AMIs created from an instance, in creation order.
func (s *Server) ImagesOf(instance string) []EC2Image {
	s.images.mu.Lock()
	defer s.images.mu.Unlock()
	var out []EC2Image
	for i := 1; i <= s.images.seq; i++ {
		if im, ok := s.images.byID[fmt.Sprintf("ami-%017x", i)]; ok && im.Instance == instance {
			out = append(out, im)
		}
	}
	return out
}

func (s *Server) createImage(w http.ResponseWriter, body []byte) {
	q, ok := ec2Form(w, body)
	if !ok {
		return
	}
	id, name := q.Get("InstanceId"), q.Get("Name")
	if !amiName().MatchString(name) {
		WriteEC2Error(w, http.StatusBadRequest, "InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'")
		return
	}
	noReboot, _ := strconv.ParseBool(q.Get("NoReboot"))
	tags := map[string]string{}
	for i := 1; q.Has("TagSpecification." + strconv.Itoa(i) + ".ResourceType"); i++ {
		p := "TagSpecification." + strconv.Itoa(i)
		if q.Get(p+".ResourceType") == "image" {
			maps.Copy(tags, ec2Tags(q, p+".Tag"))
		}
	}
	st := s.ec2
	st.mu.Lock()
	in, ok := st.instances[id]
	switch {
	case !ok || in.state == "terminated":
		st.mu.Unlock()
		ec2NotFound(w, []string{id})
		return
	case in.state != "running" && in.state != "stopped":
		st.mu.Unlock()
		WriteEC2Error(w, http.StatusBadRequest, "IncorrectInstanceState", "The instance '"+id+"' is not in a state from which it can be imaged.")
		return
	}
	if !noReboot && in.state == "running" {
		st.reboots[id]++
	}
	st.mu.Unlock()

	im := s.images
	im.mu.Lock()
	defer im.mu.Unlock()
	if _, dup := im.byName[name]; dup {
		WriteEC2Error(w, http.StatusBadRequest, "InvalidAMIName.Duplicate", "AMI name "+name+" is already in use by AMI "+im.byName[name])
		return
	}
	im.seq++
	ami := EC2Image{ID: fmt.Sprintf("ami-%017x", im.seq), Name: name, Instance: id, NoReboot: noReboot, Tags: tags}
	im.byID[ami.ID], im.byName[name] = ami, ami.ID
	writeEC2(w, struct {
		XMLName   xml.Name `xml:"CreateImageResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		RequestID string   `xml:"requestId"`
		ImageID   string   `xml:"imageId"`
	}{Xmlns: ec2XMLNS, RequestID: "emulator", ImageID: ami.ID})
}
